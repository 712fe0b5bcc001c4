/* CPU dispatch: pick, once at import, the best kernel table this CPU and OS can run.
 * x86-64: CPUID for the instruction sets plus XGETBV for the OS having enabled the YMM/ZMM
 * register state (a CPU with AVX2 under an OS that does not save YMM must not use it).
 * ACTCORE_ISA caps the choice (tests, bug reports). */
#include "act.h"
#include "axis.h"
#include "bnorm.h"
#include <stdio.h>
#include <string.h>

#if defined(__x86_64__) || defined(_M_X64) || defined(_M_AMD64)
#define ACT_X86 1
#else
#define ACT_X86 0
#endif

extern const act_isa_table act_table_baseline;
#ifdef ACT_BUILD_AVX2
extern const act_isa_table act_table_avx2;
#endif
#ifdef ACT_BUILD_AVX512
extern const act_isa_table act_table_avx512;
#endif

static const act_isa_table *const tables[ACT_NISAS] = {
    &act_table_baseline,
#ifdef ACT_BUILD_AVX2
    &act_table_avx2,
#else
    NULL,
#endif
#ifdef ACT_BUILD_AVX512
    &act_table_avx512,
#else
    NULL,
#endif
};
/* the axis and batch-norm kernels of each target (axis.c, bnorm.c), switched with act_table */
extern const act_axis_fns act_axis_table_baseline;
#ifdef ACT_BUILD_AVX2
extern const act_axis_fns act_axis_table_avx2;
#endif
#ifdef ACT_BUILD_AVX512
extern const act_axis_fns act_axis_table_avx512;
#endif
static const act_axis_fns *const axis_tables[ACT_NISAS] = {
    &act_axis_table_baseline,
#ifdef ACT_BUILD_AVX2
    &act_axis_table_avx2,
#else
    NULL,
#endif
#ifdef ACT_BUILD_AVX512
    &act_axis_table_avx512,
#else
    NULL,
#endif
};
extern const act_bn_table act_bn_table_baseline;
#ifdef ACT_BUILD_AVX2
extern const act_bn_table act_bn_table_avx2;
#endif
#ifdef ACT_BUILD_AVX512
extern const act_bn_table act_bn_table_avx512;
#endif
static const act_bn_table *const bn_tables[ACT_NISAS] = {
    &act_bn_table_baseline,
#ifdef ACT_BUILD_AVX2
    &act_bn_table_avx2,
#else
    NULL,
#endif
#ifdef ACT_BUILD_AVX512
    &act_bn_table_avx512,
#else
    NULL,
#endif
};
static const char *const isa_names[ACT_NISAS] = {"baseline", "avx2", "avx512"};

const act_isa_table *act_table = &act_table_baseline;
int act_isa_fma(int isa) { return isa >= 0 && isa < ACT_NISAS && tables[isa] && tables[isa]->fma; }
static int current = ACT_ISA_BASELINE;

#if ACT_X86
#if defined(_MSC_VER)
#include <intrin.h>
#include <immintrin.h>
static void act_cpuid(int leaf, int sub, unsigned r[4])
{
    int t[4];
    __cpuidex(t, leaf, sub);
    for (int i = 0; i < 4; i++) r[i] = (unsigned)t[i];
}
static unsigned long long act_xgetbv0(void) { return _xgetbv(0); }
#else
#include <cpuid.h>
static void act_cpuid(int leaf, int sub, unsigned r[4])
{
    __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
}
static unsigned long long act_xgetbv0(void)
{
    unsigned eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}
#endif
static int cpu_level(void)
{
    unsigned r1[4], r7[4], r0[4];
    act_cpuid(0, 0, r0);
    if (r0[0] < 7) return ACT_ISA_BASELINE;
    act_cpuid(1, 0, r1);
    act_cpuid(7, 0, r7);
    int osxsave = (r1[2] >> 27) & 1, avx = (r1[2] >> 28) & 1, fma = (r1[2] >> 12) & 1;
    if (!osxsave || !avx) return ACT_ISA_BASELINE;
    unsigned long long xcr0 = act_xgetbv0();
    int ymm_os = (xcr0 & 0x6) == 0x6;    /* XMM and YMM state saved by the OS */
    int zmm_os = (xcr0 & 0xe6) == 0xe6;  /* plus opmask, ZMM_Hi256, Hi16_ZMM */
    int avx2 = (r7[1] >> 5) & 1;
    int a512 = ((r7[1] >> 16) & 1) && ((r7[1] >> 17) & 1) && ((r7[1] >> 30) & 1) &&
               ((r7[1] >> 31) & 1); /* F, DQ, BW, VL */
    if (!ymm_os || !avx2 || !fma) return ACT_ISA_BASELINE;
    if (zmm_os && a512) return ACT_ISA_AVX512;
    return ACT_ISA_AVX2;
}
#else
static int cpu_level(void) { return ACT_ISA_BASELINE; } /* aarch64: NEON is the baseline */
#endif

const char *act_isa_name(int isa) { return isa >= 0 && isa < ACT_NISAS ? isa_names[isa] : "?"; }
int act_isa_built(int isa) { return isa >= 0 && isa < ACT_NISAS && tables[isa] != NULL; }
int act_isa_supported(int isa) { return act_isa_built(isa) && isa <= cpu_level(); }
int act_isa_current(void) { return current; }
const act_axis_fns *act_axis_current(void) { return axis_tables[current]; }
const act_bn_table *act_bn_current(void) { return bn_tables[current]; }

int act_isa_from_name(const char *name)
{
    for (int i = 0; i < ACT_NISAS; i++)
        if (strcmp(name, isa_names[i]) == 0) return i;
    return -1;
}

int act_set_isa(int isa)
{
    if (!act_isa_supported(isa)) return -1;
    current = isa;
    act_table = tables[isa];
    return 0;
}

void act_dispatch_init(const char *cap, char *warn, size_t warnlen)
{
    int best = ACT_ISA_BASELINE;
    for (int i = ACT_NISAS - 1; i >= 0; i--)
        if (act_isa_supported(i)) {
            best = i;
            break;
        }
    warn[0] = '\0';
    if (cap && cap[0]) {
        int c = act_isa_from_name(cap);
        if (c < 0)
            snprintf(warn, warnlen,
                     "ACTCORE_ISA=%s is not one of baseline, avx2, avx512; using %s", cap,
                     isa_names[best]);
        else if (c < best)
            best = c;
        else if (c > best)
            snprintf(warn, warnlen, "ACTCORE_ISA=%s is not available on this CPU/build; using %s",
                     cap, isa_names[best]);
    }
    act_set_isa(best);
}
