/* The kernels compiled for the baseline target (flags in setup.py: ISA_FLAGS). */
#define ACT_ISA baseline
#define ACT_STR_(s) #s
#define ACT_STR(s) ACT_STR_(s)
#include "eltwise.c"
#include "bnorm.c"
#include "axis.c"
