/* The kernels compiled for the avx512 target (flags in setup.py: ISA_FLAGS). */
#define ACT_ISA avx512
#define ACT_HAVE_FMA 1 /* vmathf.h: fused multiply-add (MSVC defines no __FMA__) */
#define ACT_STR_(s) #s
#define ACT_STR(s) ACT_STR_(s)
#include "eltwise.c"
#include "bnorm.c"
#include "axis.c"
