/* Streaming (non-temporal) stores for outputs far beyond the caches, shared by the elementwise
 * kernels (eltwise.c) and the softmax family (axis.c).  Included once per CPU target: the store
 * width follows the target's flags.
 *
 * A plain store first reads every output line it misses (read for ownership), so a kernel that
 * reads x and writes y moves three streams (x in, y read and written back); streamed, two.
 * ACT_NT_BYTES, 16 MiB of output: half this machine's L3 (32 MB), past which y cannot stay
 * cached for its consumer anyway.  Measured on a float32 copy at 2^24 elements, 2 threads:
 * 2.08 -> 1.58 ms (min of 30, C harness); on 4096x4096 log_softmax, interleaved in one process,
 * 5.48 -> 4.66 ms (ONNX Runtime 5.14).  An earlier try (2026-12-02, SSE stores, softmax's terms
 * in a scratch row) measured 15% slower; a fence after every 1024-element block, tried in the
 * softmax kernels, cancelled the gain (5.82 against 5.74 ms without streaming), so each thread
 * fences once, after its last store.
 *
 * act_nt_copy copies n bytes of an L1 buffer to d (d element-aligned): plain stores up to the
 * vector alignment and for the rest, streaming stores between; where the target has none
 * (aarch64, or no SSE2) all plain, the same values either way. */
#ifndef ACT_NTSTORE_H
#define ACT_NTSTORE_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ACT_NT_BYTES ((size_t)16 << 20)

#if defined(__SSE2__) || defined(_M_X64)
#include <immintrin.h>
#if defined(__AVX512F__)
#define ACT_NTW 64
#define ACT_NT_ONE(d, s) _mm512_stream_si512((void *)(d), _mm512_loadu_si512((const void *)(s)))
#elif defined(__AVX__)
#define ACT_NTW 32
#define ACT_NT_ONE(d, s)                                                                       \
    _mm256_stream_si256((__m256i *)(d), _mm256_loadu_si256((const __m256i *)(s)))
#else
#define ACT_NTW 16
#define ACT_NT_ONE(d, s) _mm_stream_si128((__m128i *)(d), _mm_loadu_si128((const __m128i *)(s)))
#endif
static inline void act_nt_copy(void *d, const void *s, size_t n)
{
    unsigned char *dc = (unsigned char *)d;
    const unsigned char *sc = (const unsigned char *)s;
    size_t head = (size_t)(-(uintptr_t)dc & (ACT_NTW - 1));
    if (head > n) head = n;
    if (head) memcpy(dc, sc, head);
    size_t i = head;
    for (; i + ACT_NTW <= n; i += ACT_NTW) ACT_NT_ONE(dc + i, sc + i);
    if (i < n) memcpy(dc + i, sc + i, n - i);
}
/* streaming stores are weakly ordered: each thread fences its own before its region ends */
static inline void act_nt_fence(void) { _mm_sfence(); }
#undef ACT_NT_ONE
#else
#define ACT_NTW 1
static inline void act_nt_copy(void *d, const void *s, size_t n) { memcpy(d, s, n); }
static inline void act_nt_fence(void) {}
#endif

#endif
