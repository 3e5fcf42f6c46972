/*
 * workbench WASM SIMD kernels.
 *
 * Coarse-grained on purpose: a wasmtime call costs ~20 us, so every export does a
 * lot of work per call (a whole matmul, a whole search, a whole training epoch).
 * All buffers live in linear memory and are handed in as offsets by the Python arena.
 * Build: see build.py (zig cc, wasm32-freestanding, simd128 + relaxed-simd).
 */
#include <stddef.h>
#include <stdint.h>
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))
#define INLINE static inline __attribute__((always_inline))

#ifdef __wasm_relaxed_simd__
/* a*b + c, fused where the host has FMA (rounds once, so tests use tolerances) */
#define FMA(a, b, c) wasm_f32x4_relaxed_madd((a), (b), (c))
#else
#define FMA(a, b, c) wasm_f32x4_add(wasm_f32x4_mul((a), (b)), (c))
#endif

typedef v128_t v4;

/* ------------------------------------------------------------------ libc bits */

void *memcpy(void *restrict dst, const void *restrict src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--) *d++ = *s++;
    return dst;
}

void *memset(void *dst, int c, size_t n) {
    unsigned char *d = dst;
    while (n--) *d++ = (unsigned char)c;
    return dst;
}

extern unsigned char __heap_base;

/* First byte the Python arena may hand out (after data, bss and the stack). */
EXPORT(heap_base) uint32_t heap_base(void) { return (uint32_t)(uintptr_t)&__heap_base; }

/* ------------------------------------------------------------------ math */

INLINE v4 v_exp(v4 x) {
    /* Cephes expf: range reduction by ln2, degree-6 polynomial, scale by 2^n. */
    x = wasm_f32x4_min(x, wasm_f32x4_splat(88.3762626647949f));
    x = wasm_f32x4_max(x, wasm_f32x4_splat(-87.3365447504f));
    v4 fx = FMA(x, wasm_f32x4_splat(1.44269504088896341f), wasm_f32x4_splat(0.5f));
    fx = wasm_f32x4_floor(fx);
    x = wasm_f32x4_sub(x, wasm_f32x4_mul(fx, wasm_f32x4_splat(0.693359375f)));
    x = wasm_f32x4_sub(x, wasm_f32x4_mul(fx, wasm_f32x4_splat(-2.12194440e-4f)));
    v4 z = wasm_f32x4_mul(x, x);
    v4 y = wasm_f32x4_splat(1.9875691500E-4f);
    y = FMA(y, x, wasm_f32x4_splat(1.3981999507E-3f));
    y = FMA(y, x, wasm_f32x4_splat(8.3334519073E-3f));
    y = FMA(y, x, wasm_f32x4_splat(4.1665795894E-2f));
    y = FMA(y, x, wasm_f32x4_splat(1.6666665459E-1f));
    y = FMA(y, x, wasm_f32x4_splat(5.0000001201E-1f));
    y = FMA(y, z, x);
    y = wasm_f32x4_add(y, wasm_f32x4_splat(1.0f));
    v4 n = wasm_i32x4_trunc_sat_f32x4(fx);
    n = wasm_i32x4_shl(wasm_i32x4_add(n, wasm_i32x4_splat(127)), 23);
    return wasm_f32x4_mul(y, n);
}

static float s_exp(float x) { return wasm_f32x4_extract_lane(v_exp(wasm_f32x4_splat(x)), 0); }

static float s_log(float x) {
    /* Cephes logf for x > 0 (callers guarantee it). */
    union {
        float f;
        uint32_t u;
    } b = {x};
    int e = (int)((b.u >> 23) & 0xff) - 126;
    b.u = (b.u & 0x007fffffu) | 0x3f000000u; /* mantissa in [0.5, 1) */
    float m = b.f;
    if (m < 0.707106781186547524f) {
        e -= 1;
        m = m + m - 1.0f;
    } else {
        m = m - 1.0f;
    }
    float z = m * m;
    float y = 7.0376836292E-2f;
    y = y * m - 1.1514610310E-1f;
    y = y * m + 1.1676998740E-1f;
    y = y * m - 1.2420140846E-1f;
    y = y * m + 1.4249322787E-1f;
    y = y * m - 1.6668057665E-1f;
    y = y * m + 2.0000714765E-1f;
    y = y * m - 2.4999993993E-1f;
    y = y * m + 3.3333331174E-1f;
    y = y * m * z;
    float fe = (float)e;
    y += -2.12194440e-4f * fe;
    y += -0.5f * z;
    return m + y + 0.693359375f * fe;
}

/* ------------------------------------------------------------------ GEMM */
/*
 * C (M x N, ldc) = A (M x K) * B (K x N) [+ C].  A and B are read through
 * (row stride, col stride) so the packing step absorbs every transpose the MLP
 * backward pass needs.  BLIS-style loops: pack a KC x NC block of B into NR-wide
 * panels, an MC x KC block of A into MR-high strips, and run a register-tiled
 * MR x NR micro-kernel (4 x 8: 8 f32x4 accumulators, all kept in xmm registers).
 *
 * Shaped by the machine code Cranelift (wasmtime 50) generates, measured on AMD Zen 4
 * (see BENCHMARKS_kernels.md):
 *  - packed A is pre-broadcast: every element is stored as a full f32x4 splat, so the
 *    micro-kernel does plain vector loads instead of lane shuffles (Cranelift lowers
 *    v128.load32_splat to a scalar load + vmovd + vpbroadcastd, and a lane splat to
 *    vpshufd, which competes with mul/add for FP pipes).  4x the A traffic, but a
 *    4 x KC strip is 16 KiB and stays in L1; MC = 64 keeps the A block in L2 next to
 *    the 512 KiB B block.
 *  - separate f32x4.mul + f32x4.add, not relaxed_madd: Cranelift lowers the FMA to
 *    vfmadd213ps, which overwrites a multiplicand, so every FMA needs a register copy
 *    and the accumulators rotate through registers at the loop back-edge (8 extra
 *    movdqa per k); mul + add use the non-destructive AVX forms and stay put.
 *  - the k loop ends on a pointer compare and the build passes -mllvm -disable-lsr:
 *    LLVM's loop strength reduction otherwise turns `b + 4` into a separate i32.add
 *    instead of a load offset, which costs an extra x86 instruction per load.
 *  - no k unrolling and no larger tile: Cranelift allocates only xmm0-15, and both
 *    spilled (measured slower).
 */
#define MR 4
#define NR 8
#define KC 256
#define MC 64
#define NC 512

/* One pair of pack buffers per training thread (see mlp_train_epoch): two instances share
 * one linear memory there, so a single static pair would be overwritten by the other. */
#define NSLOT 2
static float packA[NSLOT][MC * KC * 4] __attribute__((aligned(16))); /* splatted: 4 floats each */
static float packB[NSLOT][KC * NC] __attribute__((aligned(16)));

static void pack_b(int kc, int nc, const float *B, int rsb, int csb, float *dst) {
    for (int j0 = 0; j0 < nc; j0 += NR) {
        int nr = nc - j0 < NR ? nc - j0 : NR;
        const float *src = B + (size_t)j0 * csb;
        if (csb == 1 && nr == NR) {
            for (int k = 0; k < kc; k++) {
                const float *s = src + (size_t)k * rsb;
                wasm_v128_store(dst, wasm_v128_load(s));
                wasm_v128_store(dst + 4, wasm_v128_load(s + 4));
                dst += NR;
            }
        } else {
            for (int k = 0; k < kc; k++) {
                const float *s = src + (size_t)k * rsb;
                int j = 0;
                for (; j < nr; j++) dst[j] = s[(size_t)j * csb];
                for (; j < NR; j++) dst[j] = 0.0f;
                dst += NR;
            }
        }
    }
}

/* Strip layout: for each k, MR splats (a[r][k], a[r][k], a[r][k], a[r][k]); rows past
 * the matrix edge are zero. */
static void pack_a(int mc, int kc, const float *A, int rsa, int csa, float *dst) {
    for (int i0 = 0; i0 < mc; i0 += MR) {
        int mr = mc - i0 < MR ? mc - i0 : MR;
        for (int r = 0; r < MR; r++) {
            float *d = dst + r * 4;
            if (r < mr) {
                const float *s = A + (size_t)(i0 + r) * rsa;
                for (int k = 0; k < kc; k++) {
                    wasm_v128_store(d, wasm_v128_load32_splat(s + (size_t)k * csa));
                    d += MR * 4;
                }
            } else {
                for (int k = 0; k < kc; k++) {
                    wasm_v128_store(d, wasm_f32x4_splat(0.0f));
                    d += MR * 4;
                }
            }
        }
        dst += (size_t)MR * 4 * kc;
    }
}

INLINE void store_tile(v4 acc[MR][2], float *c, int ldc, int mr, int nr, int accumulate) {
    if (mr == MR && nr == NR) {
        for (int r = 0; r < MR; r++) {
            float *cr = c + (size_t)r * ldc;
            v4 lo = acc[r][0], hi = acc[r][1];
            if (accumulate) {
                lo = wasm_f32x4_add(lo, wasm_v128_load(cr));
                hi = wasm_f32x4_add(hi, wasm_v128_load(cr + 4));
            }
            wasm_v128_store(cr, lo);
            wasm_v128_store(cr + 4, hi);
        }
    } else {
        float tile[MR * NR] __attribute__((aligned(16)));
        for (int r = 0; r < MR; r++) {
            wasm_v128_store(tile + r * NR, acc[r][0]);
            wasm_v128_store(tile + r * NR + 4, acc[r][1]);
        }
        for (int r = 0; r < mr; r++) {
            float *cr = c + (size_t)r * ldc;
            for (int j = 0; j < nr; j++) cr[j] = accumulate ? cr[j] + tile[r * NR + j] : tile[r * NR + j];
        }
    }
}

/* kc >= 1.  Per k: 2 loads of B, 4 of (splatted) A, 8 mul + 8 add = 64 flops. */
INLINE void ukernel(int kc, const float *restrict a, const float *restrict b, float *c, int ldc,
                    int mr, int nr, int accumulate) {
    v4 acc[MR][2];
    for (int r = 0; r < MR; r++) acc[r][0] = acc[r][1] = wasm_f32x4_splat(0);
    const float *bend = b + (size_t)kc * NR;
    do {
        v4 b0 = wasm_v128_load(b), b1 = wasm_v128_load(b + 4);
#pragma clang loop unroll(full)
        for (int r = 0; r < MR; r++) {
            v4 ar = wasm_v128_load(a + 4 * r);
            acc[r][0] = wasm_f32x4_add(wasm_f32x4_mul(ar, b0), acc[r][0]);
            acc[r][1] = wasm_f32x4_add(wasm_f32x4_mul(ar, b1), acc[r][1]);
        }
        a += MR * 4;
        b += NR;
    } while (b != bend);
    store_tile(acc, c, ldc, mr, nr, accumulate);
}

static void gemm(int slot, int M, int N, int K, const float *A, int rsa, int csa, const float *B,
                 int rsb, int csb, float *C, int ldc, int accumulate) {
    float *pA = packA[slot], *pB = packB[slot];
    if (K == 0) {
        if (!accumulate)
            for (int i = 0; i < M; i++)
                for (int j = 0; j < N; j++) C[(size_t)i * ldc + j] = 0.0f;
        return;
    }
    for (int jc = 0; jc < N; jc += NC) {
        int nc = N - jc < NC ? N - jc : NC;
        for (int pc = 0; pc < K; pc += KC) {
            int kc = K - pc < KC ? K - pc : KC;
            pack_b(kc, nc, B + (size_t)pc * rsb + (size_t)jc * csb, rsb, csb, pB);
            int acc = accumulate || pc > 0;
            for (int ic = 0; ic < M; ic += MC) {
                int mc = M - ic < MC ? M - ic : MC;
                pack_a(mc, kc, A + (size_t)ic * rsa + (size_t)pc * csa, rsa, csa, pA);
                for (int jr = 0; jr < nc; jr += NR) {
                    int nr = nc - jr < NR ? nc - jr : NR;
                    const float *bp = pB + (size_t)jr * kc;
                    for (int ir = 0; ir < mc; ir += MR) {
                        int mr = mc - ir < MR ? mc - ir : MR;
                        ukernel(kc, pA + (size_t)ir * kc * 4, bp,
                                C + (size_t)(ic + ir) * ldc + jc + jr, ldc, mr, nr, acc);
                    }
                }
            }
        }
    }
}

/* C (M x N) = A (M x K) @ B (K x N), all row-major and contiguous. */
EXPORT(matmul) void matmul(const float *A, const float *B, float *C, int M, int K, int N) {
    gemm(0, M, N, K, A, K, 1, B, N, 1, C, N, 0);
}

/* Register-only relaxed-SIMD FMA loop: the WASM roofline. flops = iters * 96. */
EXPORT(peak_fma) float peak_fma(int iters) {
    v4 a = wasm_f32x4_splat(0.999999f), b = wasm_f32x4_splat(1e-7f);
    v4 c0 = wasm_f32x4_splat(0.0f), c1 = wasm_f32x4_splat(0.1f), c2 = wasm_f32x4_splat(0.2f);
    v4 c3 = wasm_f32x4_splat(0.3f), c4 = wasm_f32x4_splat(0.4f), c5 = wasm_f32x4_splat(0.5f);
    v4 c6 = wasm_f32x4_splat(0.6f), c7 = wasm_f32x4_splat(0.7f), c8 = wasm_f32x4_splat(0.8f);
    v4 c9 = wasm_f32x4_splat(0.9f), c10 = wasm_f32x4_splat(1.0f), c11 = wasm_f32x4_splat(1.1f);
    for (int i = 0; i < iters; i++) {
        c0 = FMA(c0, a, b);
        c1 = FMA(c1, a, b);
        c2 = FMA(c2, a, b);
        c3 = FMA(c3, a, b);
        c4 = FMA(c4, a, b);
        c5 = FMA(c5, a, b);
        c6 = FMA(c6, a, b);
        c7 = FMA(c7, a, b);
        c8 = FMA(c8, a, b);
        c9 = FMA(c9, a, b);
        c10 = FMA(c10, a, b);
        c11 = FMA(c11, a, b);
    }
    v4 s = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_add(c0, c1), wasm_f32x4_add(c2, c3)),
                          wasm_f32x4_add(wasm_f32x4_add(c4, c5), wasm_f32x4_add(c6, c7)));
    s = wasm_f32x4_add(s, wasm_f32x4_add(wasm_f32x4_add(c8, c9), wasm_f32x4_add(c10, c11)));
    return wasm_f32x4_extract_lane(s, 0);
}

/* ------------------------------------------------------------------ int8 quantization */

/*
 * Per-row symmetric int8: scale = maxabs / 127, q = roundeven(x * (127 / maxabs)).
 * Every step is one correctly rounded f32 op, so numpy reproduces it bit for bit.
 */
EXPORT(quantize_rows) void quantize_rows(const float *X, int n, int d, int8_t *Q, float *scales) {
    for (int i = 0; i < n; i++) {
        const float *x = X + (size_t)i * d;
        int8_t *q = Q + (size_t)i * d;
        v4 mx = wasm_f32x4_splat(0.0f);
        int j = 0;
        for (; j + 4 <= d; j += 4) mx = wasm_f32x4_max(mx, wasm_f32x4_abs(wasm_v128_load(x + j)));
        float m0 = wasm_f32x4_extract_lane(mx, 0), m1 = wasm_f32x4_extract_lane(mx, 1);
        float m2 = wasm_f32x4_extract_lane(mx, 2), m3 = wasm_f32x4_extract_lane(mx, 3);
        m0 = m1 > m0 ? m1 : m0;
        m2 = m3 > m2 ? m3 : m2;
        float m = m2 > m0 ? m2 : m0;
        for (; j < d; j++) {
            float a = x[j] < 0 ? -x[j] : x[j];
            m = a > m ? a : m;
        }
        float inv = m > 0.0f ? 127.0f / m : 0.0f;
        scales[i] = m / 127.0f;
        v4 vi = wasm_f32x4_splat(inv), lo = wasm_f32x4_splat(-127.0f), hi = wasm_f32x4_splat(127.0f);
        j = 0;
        for (; j + 16 <= d; j += 16) {
            v4 r[4];
            for (int u = 0; u < 4; u++) {
                v4 t = wasm_f32x4_nearest(wasm_f32x4_mul(wasm_v128_load(x + j + 4 * u), vi));
                t = wasm_f32x4_min(wasm_f32x4_max(t, lo), hi);
                r[u] = wasm_i32x4_trunc_sat_f32x4(t);
            }
            v4 s0 = wasm_i16x8_narrow_i32x4(r[0], r[1]);
            v4 s1 = wasm_i16x8_narrow_i32x4(r[2], r[3]);
            wasm_v128_store(q + j, wasm_i8x16_narrow_i16x8(s0, s1));
        }
        for (; j < d; j++) {
            float t = wasm_f32x4_extract_lane(
                wasm_f32x4_nearest(wasm_f32x4_splat(x[j] * inv)), 0);
            t = t < -127.0f ? -127.0f : (t > 127.0f ? 127.0f : t);
            q[j] = (int8_t)(int)t;
        }
    }
}

EXPORT(dequantize_rows) void dequantize_rows(const int8_t *Q, const float *scales, int n, int d,
                                             float *X) {
    for (int i = 0; i < n; i++) {
        const int8_t *q = Q + (size_t)i * d;
        float *x = X + (size_t)i * d;
        float s = scales[i];
        v4 vs = wasm_f32x4_splat(s);
        int j = 0;
        for (; j + 8 <= d; j += 8) {
            v4 w = wasm_i16x8_load8x8(q + j);
            v4 lo = wasm_f32x4_convert_i32x4(wasm_i32x4_extend_low_i16x8(w));
            v4 hi = wasm_f32x4_convert_i32x4(wasm_i32x4_extend_high_i16x8(w));
            wasm_v128_store(x + j, wasm_f32x4_mul(lo, vs));
            wasm_v128_store(x + j + 4, wasm_f32x4_mul(hi, vs));
        }
        for (; j < d; j++) x[j] = (float)q[j] * s;
    }
}

/* ------------------------------------------------------------------ top-k */

/* Min-heap of the k best (score, index) so far; root = the worst kept. Ties on score
 * prefer the lower index, matching a stable sort of -score. */
INLINE int worse(float sa, int ia, float sb, int ib) { return sa < sb || (sa == sb && ia > ib); }

static void heap_sift(float *hs, int32_t *hi, int n, int i) {
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && worse(hs[l], hi[l], hs[m], hi[m])) m = l;
        if (r < n && worse(hs[r], hi[r], hs[m], hi[m])) m = r;
        if (m == i) return;
        float ts = hs[i];
        hs[i] = hs[m];
        hs[m] = ts;
        int32_t ti = hi[i];
        hi[i] = hi[m];
        hi[m] = ti;
        i = m;
    }
}

INLINE void heap_push(float *hs, int32_t *hi, int *cnt, int k, float s, int idx) {
    if (*cnt < k) {
        int i = (*cnt)++;
        hs[i] = s;
        hi[i] = idx;
        while (i > 0) {
            int p = (i - 1) / 2;
            if (!worse(hs[i], hi[i], hs[p], hi[p])) break;
            float ts = hs[i];
            hs[i] = hs[p];
            hs[p] = ts;
            int32_t ti = hi[i];
            hi[i] = hi[p];
            hi[p] = ti;
            i = p;
        }
    } else if (worse(hs[0], hi[0], s, idx)) {
        hs[0] = s;
        hi[0] = idx;
        heap_sift(hs, hi, k, 0);
    }
}

/* In-place heap sort: best first. */
static void heap_finish(float *hs, int32_t *hi, int n) {
    for (int end = n - 1; end > 0; end--) {
        float ts = hs[0];
        hs[0] = hs[end];
        hs[end] = ts;
        int32_t ti = hi[0];
        hi[0] = hi[end];
        hi[end] = ti;
        heap_sift(hs, hi, end, 0);
    }
}

INLINE float hsum(v4 a) {
    a = wasm_f32x4_add(a, wasm_i32x4_shuffle(a, a, 2, 3, 0, 1));
    a = wasm_f32x4_add(a, wasm_i32x4_shuffle(a, a, 1, 0, 3, 2));
    return wasm_f32x4_extract_lane(a, 0);
}

INLINE int32_t hsum_i(v4 a) {
    a = wasm_i32x4_add(a, wasm_i32x4_shuffle(a, a, 2, 3, 0, 1));
    a = wasm_i32x4_add(a, wasm_i32x4_shuffle(a, a, 1, 0, 3, 2));
    return wasm_i32x4_extract_lane(a, 0);
}

/*
 * Exact inner-product top-k of nq queries over n rows; one pass over the matrix
 * serves every query (rows stream through L1 four at a time).  Indices are offset by
 * `base` so shards searched by different instances merge directly.
 */
EXPORT(search_f32) void search_f32(const float *M, int n, int d, const float *Q, int nq, int k,
                                   int base, float *out_s, int32_t *out_i, int32_t *counts) {
    for (int q = 0; q < nq; q++) counts[q] = 0;
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        const float *r0 = M + (size_t)i * d, *r1 = r0 + d, *r2 = r1 + d, *r3 = r2 + d;
        for (int q = 0; q < nq; q++) {
            const float *x = Q + (size_t)q * d;
            v4 a0 = wasm_f32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
            int j = 0;
            for (; j + 4 <= d; j += 4) {
                v4 xv = wasm_v128_load(x + j);
                a0 = FMA(wasm_v128_load(r0 + j), xv, a0);
                a1 = FMA(wasm_v128_load(r1 + j), xv, a1);
                a2 = FMA(wasm_v128_load(r2 + j), xv, a2);
                a3 = FMA(wasm_v128_load(r3 + j), xv, a3);
            }
            float s0 = hsum(a0), s1 = hsum(a1), s2 = hsum(a2), s3 = hsum(a3);
            for (; j < d; j++) {
                s0 += r0[j] * x[j];
                s1 += r1[j] * x[j];
                s2 += r2[j] * x[j];
                s3 += r3[j] * x[j];
            }
            float *hs = out_s + (size_t)q * k;
            int32_t *hi = out_i + (size_t)q * k;
            heap_push(hs, hi, counts + q, k, s0, base + i);
            heap_push(hs, hi, counts + q, k, s1, base + i + 1);
            heap_push(hs, hi, counts + q, k, s2, base + i + 2);
            heap_push(hs, hi, counts + q, k, s3, base + i + 3);
        }
    }
    for (; i < n; i++) {
        const float *r0 = M + (size_t)i * d;
        for (int q = 0; q < nq; q++) {
            const float *x = Q + (size_t)q * d;
            v4 a0 = wasm_f32x4_splat(0);
            int j = 0;
            for (; j + 4 <= d; j += 4) a0 = FMA(wasm_v128_load(r0 + j), wasm_v128_load(x + j), a0);
            float s0 = hsum(a0);
            for (; j < d; j++) s0 += r0[j] * x[j];
            heap_push(out_s + (size_t)q * k, out_i + (size_t)q * k, counts + q, k, s0, base + i);
        }
    }
    for (int q = 0; q < nq; q++) heap_finish(out_s + (size_t)q * k, out_i + (size_t)q * k, counts[q]);
}

/*
 * Exact int32 dots of four consecutive int8 rows (r0, stride d) with one query widened to
 * i16 (x, zero-padded to a multiple of 16): each 16-byte chunk of the rows is widened and
 * multiplied with i32x4.dot_i16x8. The inner loop of search_i8 and search_i8_lists.
 */
static inline void dot4_i8(const int8_t *r0, int d, const int16_t *x, int32_t *s) {
    int d16 = d & ~15;
    const int8_t *r1 = r0 + d, *r2 = r1 + d, *r3 = r2 + d;
    v4 a0 = wasm_i32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
    for (int j = 0; j < d16; j += 16) {
        v4 xl = wasm_v128_load(x + j), xh = wasm_v128_load(x + j + 8);
        v4 v0 = wasm_v128_load(r0 + j), v1 = wasm_v128_load(r1 + j);
        v4 v2 = wasm_v128_load(r2 + j), v3 = wasm_v128_load(r3 + j);
        a0 = wasm_i32x4_add(a0, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(v0), xl));
        a0 = wasm_i32x4_add(a0, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(v0), xh));
        a1 = wasm_i32x4_add(a1, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(v1), xl));
        a1 = wasm_i32x4_add(a1, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(v1), xh));
        a2 = wasm_i32x4_add(a2, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(v2), xl));
        a2 = wasm_i32x4_add(a2, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(v2), xh));
        a3 = wasm_i32x4_add(a3, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(v3), xl));
        a3 = wasm_i32x4_add(a3, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(v3), xh));
    }
    int32_t s0 = hsum_i(a0), s1 = hsum_i(a1), s2 = hsum_i(a2), s3 = hsum_i(a3);
    for (int j = d16; j < d; j++) {
        s0 += r0[j] * x[j];
        s1 += r1[j] * x[j];
        s2 += r2[j] * x[j];
        s3 += r3[j] * x[j];
    }
    s[0] = s0, s[1] = s1, s[2] = s2, s[3] = s3;
}

static inline int32_t dot1_i8(const int8_t *r0, int d, const int16_t *x) {
    int32_t s0 = 0;
    for (int j = 0; j < d; j++) s0 += r0[j] * x[j];
    return s0;
}

/* The four rows' scores (dot * row scale * query scale) into one query's top-k heap. */
static inline void push4_i8(float *hs, int32_t *hi, int32_t *count, int k, const int32_t *s,
                            const float *scales, float qs, int base) {
    for (int r = 0; r < 4; r++) heap_push(hs, hi, count, k, (float)s[r] * (scales[r] * qs), base + r);
}

/*
 * Approximate top-k over int8 codes: score = dot_i32(code_row, code_query) * row_scale *
 * query_scale.  The query is widened to i16 once (into `work`, nq * dpad i16); four rows
 * at a time go through dot4_i8 for every query (the rows stay in cache).
 */
EXPORT(search_i8) void search_i8(const int8_t *C, const float *scales, int n, int d,
                                 const int8_t *Qc, const float *qscales, int nq, int k, int base,
                                 int16_t *work, float *out_s, int32_t *out_i, int32_t *counts) {
    int dpad = (d + 15) & ~15;
    for (int q = 0; q < nq; q++) {
        counts[q] = 0;
        for (int j = 0; j < dpad; j++) work[(size_t)q * dpad + j] = j < d ? Qc[(size_t)q * d + j] : 0;
    }
    int i = 0;
    int32_t s[4];
    for (; i + 4 <= n; i += 4) {
        const int8_t *r0 = C + (size_t)i * d;
        for (int q = 0; q < nq; q++) {
            dot4_i8(r0, d, work + (size_t)q * dpad, s);
            push4_i8(out_s + (size_t)q * k, out_i + (size_t)q * k, counts + q, k, s, scales + i,
                     qscales[q], base + i);
        }
    }
    for (; i < n; i++) {
        const int8_t *r0 = C + (size_t)i * d;
        for (int q = 0; q < nq; q++) {
            int32_t s0 = dot1_i8(r0, d, work + (size_t)q * dpad);
            heap_push(out_s + (size_t)q * k, out_i + (size_t)q * k, counts + q, k,
                      (float)s0 * (scales[i] * qscales[q]), base + i);
        }
    }
    for (int q = 0; q < nq; q++) heap_finish(out_s + (size_t)q * k, out_i + (size_t)q * k, counts[q]);
}

/*
 * The same int8 scan for one query over several lists that live anywhere in memory (the
 * resident lists of an IVF index, kernels/lists.py): `lists` holds m records of four
 * int32 (codes offset, scales offset, rows, base); a row's index is base + its position.
 * One call for all probed lists: a wasmtime call costs far more than scanning a list.
 */
EXPORT(search_i8_lists) void search_i8_lists(const int32_t *lists, int m, int d,
                                             const int8_t *Qc, float qs, int k, int16_t *work,
                                             float *out_s, int32_t *out_i, int32_t *count) {
    int dpad = (d + 15) & ~15;
    for (int j = 0; j < dpad; j++) work[j] = j < d ? Qc[j] : 0;
    *count = 0;
    int32_t s[4];
    for (int l = 0; l < m; l++) {
        const int8_t *C = (const int8_t *)(size_t)lists[4 * l];
        const float *scales = (const float *)(size_t)lists[4 * l + 1];
        int n = lists[4 * l + 2], base = lists[4 * l + 3];
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            dot4_i8(C + (size_t)i * d, d, work, s);
            push4_i8(out_s, out_i, count, k, s, scales + i, qs, base + i);
        }
        for (; i < n; i++) {
            int32_t s0 = dot1_i8(C + (size_t)i * d, d, work);
            heap_push(out_s, out_i, count, k, (float)s0 * (scales[i] * qs), base + i);
        }
    }
    heap_finish(out_s, out_i, *count);
}

/* ------------------------------------------------------------------ MLP */

#define MAXL 16
enum { ACT_LINEAR = 0, ACT_RELU = 1, ACT_TANH = 2, ACT_SIGMOID = 3, ACT_SOFTMAX = 4 };
enum { LOSS_CE = 0, LOSS_MSE = 1 };
enum { OPT_SGD = 0, OPT_MOMENTUM = 1, OPT_ADAM = 2 };

/* Mirrors workbench/kernels/_wasm.py (_D_*): all 32-bit words. */
typedef struct {
    int32_t n_layers, n_samples, batch, loss, optimizer, step;
    float lr, momentum, beta1, beta2, eps, loss_sum;
    int32_t correct, X, Y, order, work, nthreads;
    int32_t bar_count, bar_gen, abort, pad[3];
    int32_t sizes[MAXL + 1];
    int32_t act[MAXL];
    int32_t trainable[MAXL];
    int32_t W[MAXL], b[MAXL], mW[MAXL], mb[MAXL], vW[MAXL], vb[MAXL];
} mlp_desc;

#define PTR(T, off) ((T *)(uintptr_t)(off))

static void activate(float *Z, int rows, int cols, int act) {
    size_t n = (size_t)rows * cols;
    if (act == ACT_SOFTMAX) {
        for (int r = 0; r < rows; r++) {
            float *z = Z + (size_t)r * cols;
            float m = z[0];
            for (int j = 1; j < cols; j++) m = z[j] > m ? z[j] : m;
            float s = 0.0f;
            int j = 0;
            v4 vm = wasm_f32x4_splat(m);
            for (; j + 4 <= cols; j += 4) {
                v4 e = v_exp(wasm_f32x4_sub(wasm_v128_load(z + j), vm));
                wasm_v128_store(z + j, e);
                s += hsum(e);
            }
            for (; j < cols; j++) {
                z[j] = s_exp(z[j] - m);
                s += z[j];
            }
            float inv = 1.0f / s;
            for (j = 0; j < cols; j++) z[j] *= inv;
        }
        return;
    }
    if (act == ACT_LINEAR) return;
    size_t i = 0;
    v4 one = wasm_f32x4_splat(1.0f), zero = wasm_f32x4_splat(0.0f);
    for (; i + 4 <= n; i += 4) {
        v4 x = wasm_v128_load(Z + i);
        if (act == ACT_RELU) {
            x = wasm_f32x4_max(x, zero);
        } else if (act == ACT_SIGMOID) {
            x = wasm_f32x4_div(one, wasm_f32x4_add(one, v_exp(wasm_f32x4_neg(x))));
        } else { /* tanh = sign(x) * (1 - e) / (1 + e), e = exp(-2|x|) */
            v4 e = v_exp(wasm_f32x4_mul(wasm_f32x4_abs(x), wasm_f32x4_splat(-2.0f)));
            v4 t = wasm_f32x4_div(wasm_f32x4_sub(one, e), wasm_f32x4_add(one, e));
            x = wasm_v128_or(t, wasm_v128_and(x, wasm_i32x4_splat((int32_t)0x80000000u)));
        }
        wasm_v128_store(Z + i, x);
    }
    for (; i < n; i++) {
        float x = Z[i];
        if (act == ACT_RELU) {
            x = x > 0.0f ? x : 0.0f;
        } else if (act == ACT_SIGMOID) {
            x = 1.0f / (1.0f + s_exp(-x));
        } else {
            float ax = x < 0 ? -x : x;
            float e = s_exp(-2.0f * ax);
            float t = (1.0f - e) / (1.0f + e);
            x = x < 0 ? -t : t;
        }
        Z[i] = x;
    }
}

/* dZ *= act'(A), with A the activation output. */
static void act_backward(float *dZ, const float *A, size_t n, int act) {
    if (act == ACT_LINEAR) return;
    size_t i = 0;
    v4 one = wasm_f32x4_splat(1.0f), zero = wasm_f32x4_splat(0.0f);
    for (; i + 4 <= n; i += 4) {
        v4 a = wasm_v128_load(A + i), g = wasm_v128_load(dZ + i);
        if (act == ACT_RELU)
            g = wasm_v128_and(g, wasm_f32x4_gt(a, zero));
        else if (act == ACT_SIGMOID)
            g = wasm_f32x4_mul(g, wasm_f32x4_mul(a, wasm_f32x4_sub(one, a)));
        else
            g = wasm_f32x4_mul(g, wasm_f32x4_sub(one, wasm_f32x4_mul(a, a)));
        wasm_v128_store(dZ + i, g);
    }
    for (; i < n; i++) {
        float a = A[i];
        if (act == ACT_RELU)
            dZ[i] = a > 0.0f ? dZ[i] : 0.0f;
        else if (act == ACT_SIGMOID)
            dZ[i] *= a * (1.0f - a);
        else
            dZ[i] *= 1.0f - a * a;
    }
}

static void add_bias(float *Z, const float *b, int rows, int cols) {
    for (int r = 0; r < rows; r++) {
        float *z = Z + (size_t)r * cols;
        int j = 0;
        for (; j + 4 <= cols; j += 4)
            wasm_v128_store(z + j, wasm_f32x4_add(wasm_v128_load(z + j), wasm_v128_load(b + j)));
        for (; j < cols; j++) z[j] += b[j];
    }
}

/* Rows [r0, r0 + rows) of every layer's activations; each row is computed the same way
 * whichever rows share the call, so splitting a batch by rows changes no bit. */
static void forward(const mlp_desc *D, float **A, int r0, int rows, int slot) {
    for (int l = 0; l < D->n_layers; l++) {
        int in = D->sizes[l], out = D->sizes[l + 1];
        float *z = A[l + 1] + (size_t)r0 * out;
        gemm(slot, rows, out, in, A[l] + (size_t)r0 * in, in, 1, PTR(float, D->W[l]), out, 1, z,
             out, 0);
        add_bias(z, PTR(float, D->b[l]), rows, out);
        activate(z, rows, out, D->act[l]);
    }
}

static double powi(double x, int n) {
    double r = 1.0;
    while (n > 0) {
        if (n & 1) r *= x;
        x *= x;
        n >>= 1;
    }
    return r;
}

static void update(const mlp_desc *D, float *w, const float *g, float *m, float *v, size_t n,
                   float c1, float c2) {
    v4 lr = wasm_f32x4_splat(D->lr);
    size_t i = 0;
    if (D->optimizer == OPT_SGD) {
        for (; i + 4 <= n; i += 4)
            wasm_v128_store(w + i, wasm_f32x4_sub(wasm_v128_load(w + i),
                                                  wasm_f32x4_mul(lr, wasm_v128_load(g + i))));
        for (; i < n; i++) w[i] -= D->lr * g[i];
    } else if (D->optimizer == OPT_MOMENTUM) {
        v4 mu = wasm_f32x4_splat(D->momentum);
        for (; i + 4 <= n; i += 4) {
            v4 mv = wasm_f32x4_add(wasm_f32x4_mul(mu, wasm_v128_load(m + i)), wasm_v128_load(g + i));
            wasm_v128_store(m + i, mv);
            wasm_v128_store(w + i, wasm_f32x4_sub(wasm_v128_load(w + i), wasm_f32x4_mul(lr, mv)));
        }
        for (; i < n; i++) {
            m[i] = D->momentum * m[i] + g[i];
            w[i] -= D->lr * m[i];
        }
    } else {
        float b1 = D->beta1, b2 = D->beta2, ob1 = 1.0f - b1, ob2 = 1.0f - b2;
        v4 vb1 = wasm_f32x4_splat(b1), vb2 = wasm_f32x4_splat(b2);
        v4 vob1 = wasm_f32x4_splat(ob1), vob2 = wasm_f32x4_splat(ob2);
        v4 vc1 = wasm_f32x4_splat(c1), vc2 = wasm_f32x4_splat(c2), veps = wasm_f32x4_splat(D->eps);
        for (; i + 4 <= n; i += 4) {
            v4 gv = wasm_v128_load(g + i);
            v4 mv = wasm_f32x4_add(wasm_f32x4_mul(vb1, wasm_v128_load(m + i)), wasm_f32x4_mul(vob1, gv));
            v4 vv = wasm_f32x4_add(wasm_f32x4_mul(vb2, wasm_v128_load(v + i)),
                                   wasm_f32x4_mul(vob2, wasm_f32x4_mul(gv, gv)));
            wasm_v128_store(m + i, mv);
            wasm_v128_store(v + i, vv);
            v4 den = wasm_f32x4_add(wasm_f32x4_sqrt(wasm_f32x4_mul(vv, vc2)), veps);
            v4 step = wasm_f32x4_div(wasm_f32x4_mul(lr, wasm_f32x4_mul(mv, vc1)), den);
            wasm_v128_store(w + i, wasm_f32x4_sub(wasm_v128_load(w + i), step));
        }
        for (; i < n; i++) {
            m[i] = b1 * m[i] + ob1 * g[i];
            v[i] = b2 * v[i] + ob2 * (g[i] * g[i]);
            float den = wasm_f32x4_extract_lane(wasm_f32x4_sqrt(wasm_f32x4_splat(v[i] * c2)), 0) + D->eps;
            w[i] -= (D->lr * (m[i] * c1)) / den;
        }
    }
}

/* Scratch layout shared with Python (_wasm.py:_work_floats): A[0..L], dZ[0..L-1], one dW
 * per part, db, then the per-part loss/correct counters. */
static float *carve(float **p, size_t n) {
    float *r = *p;
    *p += (n + 15) & ~(size_t)15;
    return r;
}

/* ---- two threads, one memory: a barrier over shared words (wasm threads + atomics) ----
 * Spin briefly (a batch step takes tens of microseconds), then sleep in memory.atomic.wait
 * with a 1 ms timeout so an `abort` set by the host (the other thread failed) is seen. */
#define SPIN 4000
static int barrier(mlp_desc *D) {
    if (D->nthreads < 2) return 0;
    int32_t *cnt = &D->bar_count, *gen = &D->bar_gen;
    int32_t g = __atomic_load_n(gen, __ATOMIC_ACQUIRE);
    if (__atomic_add_fetch(cnt, 1, __ATOMIC_ACQ_REL) == D->nthreads) {
        __atomic_store_n(cnt, 0, __ATOMIC_RELAXED);
        __atomic_store_n(gen, g + 1, __ATOMIC_RELEASE);
        __builtin_wasm_memory_atomic_notify(gen, 0xffffffffu);
        return 0;
    }
    int spins = 0;
    while (__atomic_load_n(gen, __ATOMIC_ACQUIRE) == g) {
        if (__atomic_load_n(&D->abort, __ATOMIC_ACQUIRE)) return 1;
        if (++spins > SPIN) __builtin_wasm_memory_atomic_wait32(gen, g, 1000000);
    }
    return 0;
}

/*
 * The batch is done in NPART fixed parts whatever the thread count, so one thread and two
 * give bit-identical weights.  Part p owns rows [r0, r1) of the batch for the forward pass,
 * the loss and the backward chain of dZ (row-local), and rows [i0, i1) of every dW (input
 * units, MR-aligned) for the gradient GEMM and the optimizer step.  Each element of every
 * result is computed exactly as in the unsplit step (the GEMM sums k in order per element).
 */
#define NPART 2
static void part_range(int n, int p, int align, int *lo, int *hi) {
    int h = ((n + 1) / 2 + align - 1) / align * align;
    h = h < n ? h : n;
    *lo = p ? h : 0;
    *hi = p ? n : h;
}

typedef struct {
    float *A[MAXL + 1], *dZ[MAXL], *dW[NPART], *db;
    double *loss;  /* [NPART] */
    int32_t *correct; /* [NPART] */
} train_bufs;

static void carve_train(const mlp_desc *D, train_bufs *T) {
    int L = D->n_layers, B = D->batch, maxout = 0;
    size_t maxwb = 0;
    for (int l = 0; l < L; l++) {
        size_t s = (size_t)D->sizes[l] * D->sizes[l + 1];
        maxwb = s > maxwb ? s : maxwb;
        maxout = D->sizes[l + 1] > maxout ? D->sizes[l + 1] : maxout;
    }
    float *p = PTR(float, D->work);
    for (int l = 0; l <= L; l++) T->A[l] = carve(&p, (size_t)B * D->sizes[l]);
    for (int l = 0; l < L; l++) T->dZ[l] = carve(&p, (size_t)B * D->sizes[l + 1]);
    for (int q = 0; q < NPART; q++) T->dW[q] = carve(&p, maxwb);
    T->db = carve(&p, (size_t)maxout);
    float *st = carve(&p, 16);
    T->loss = (double *)st;
    T->correct = (int32_t *)(st + 2 * NPART);
}

static void flush_part(train_bufs *T, int p, double *loss, int *correct) {
    T->loss[p] += *loss;
    T->correct[p] += *correct;
    *loss = 0.0;
    *correct = 0;
}

static int lowest_trainable(const mlp_desc *D) {
    for (int l = 0; l < D->n_layers; l++)
        if (D->trainable[l]) return l;
    return D->n_layers;
}

/* Part p (or p < 0: every part in one go, for one thread: the GEMMs then see whole
 * batches, with the same per-element arithmetic), rows of the batch starting at s0:
 * forward, loss and dZ of every layer. */
static void rows_part(mlp_desc *D, train_bufs *T, int s0, int rows, int p, int slot) {
    int L = D->n_layers, in0 = D->sizes[0], nout = D->sizes[L], lowest = lowest_trainable(D);
    int r0, r1, half, tmp;
    part_range(rows, 0, 1, &tmp, &half);
    if (p < 0) {
        r0 = 0, r1 = rows;
    } else {
        part_range(rows, p, 1, &r0, &r1);
    }
    if (r1 <= r0) return;
    const float *X = PTR(float, D->X);
    const int32_t *order = PTR(int32_t, D->order);
    for (int r = r0; r < r1; r++) {
        const float *src = X + (size_t)order[s0 + r] * in0;
        float *dst = T->A[0] + (size_t)r * in0;
        for (int j = 0; j < in0; j++) dst[j] = src[j];
    }
    forward(D, T->A, r0, r1 - r0, slot);
    /* loss and dL/dZ of the output layer (mean over the whole batch) */
    const float *out = T->A[L];
    float *dZ = T->dZ[L - 1];
    float invb = 1.0f / (float)rows;
    double loss = 0.0; /* summed per part in row order, so one thread matches two */
    int correct = 0;
    if (D->loss == LOSS_CE) {
        const int32_t *Y = PTR(int32_t, D->Y);
        for (int r = r0; r < r1; r++) {
            if (r == half && r > r0) flush_part(T, 0, &loss, &correct);
            int y = Y[order[s0 + r]];
            const float *o = out + (size_t)r * nout;
            float *g = dZ + (size_t)r * nout;
            int am = 0;
            for (int j = 0; j < nout; j++) {
                g[j] = o[j] * invb;
                if (o[j] > o[am]) am = j;
            }
            g[y] -= invb;
            float py = o[y] > 1e-30f ? o[y] : 1e-30f;
            loss -= (double)s_log(py);
            correct += am == y;
        }
    } else {
        const float *Y = PTR(float, D->Y);
        float scale = 2.0f / ((float)rows * (float)nout);
        for (int r = r0; r < r1; r++) {
            if (r == half && r > r0) flush_part(T, 0, &loss, &correct);
            const float *yv = Y + (size_t)order[s0 + r] * nout;
            const float *o = out + (size_t)r * nout;
            float *g = dZ + (size_t)r * nout;
            float se = 0.0f;
            for (int j = 0; j < nout; j++) {
                float e = o[j] - yv[j];
                se += e * e;
                g[j] = e * scale;
            }
            loss += (double)(se / (float)nout);
        }
        act_backward(dZ + (size_t)r0 * nout, out + (size_t)r0 * nout, (size_t)(r1 - r0) * nout,
                     D->act[L - 1]);
    }
    flush_part(T, r1 > half, &loss, &correct);
    /* dZ[l-1] = (dZ[l] @ W[l]^T) * act'(A[l]) for these rows, down to the lowest trainable */
    for (int l = L - 1; l > lowest; l--) {
        int in = D->sizes[l], o = D->sizes[l + 1];
        float *dA = T->dZ[l - 1] + (size_t)r0 * in;
        gemm(slot, r1 - r0, in, o, T->dZ[l] + (size_t)r0 * o, o, 1, PTR(float, D->W[l]), 1, o, dA,
             in, 0);
        act_backward(dA, T->A[l] + (size_t)r0 * in, (size_t)(r1 - r0) * in, D->act[l - 1]);
    }
}

/* Part p: dW rows [i0, i1) of every trainable layer over all rows, and their update;
 * part 0 also does the biases (p < 0: all of it, for one thread). */
static void units_part(mlp_desc *D, train_bufs *T, int rows, int p, int slot, float c1, float c2) {
    int L = D->n_layers, lowest = lowest_trainable(D);
    for (int l = L - 1; l >= lowest; l--) {
        if (!D->trainable[l]) continue;
        int in = D->sizes[l], o = D->sizes[l + 1], i0 = 0, i1 = in;
        if (p >= 0) part_range(in, p, MR, &i0, &i1);
        const float *dZ = T->dZ[l];
        if (i1 > i0) {
            float *dW = T->dW[p < 0 ? 0 : p];
            gemm(slot, i1 - i0, o, rows, T->A[l] + i0, 1, in, dZ, o, 1, dW, o, 0);
            size_t off = (size_t)i0 * o;
            update(D, PTR(float, D->W[l]) + off, dW, PTR(float, D->mW[l]) + off,
                   PTR(float, D->vW[l]) + off, (size_t)(i1 - i0) * o, c1, c2);
        }
        if (p <= 0) {
            float *db = T->db;
            for (int j = 0; j < o; j++) db[j] = 0.0f;
            for (int r = 0; r < rows; r++) {
                const float *g = dZ + (size_t)r * o;
                int j = 0;
                for (; j + 4 <= o; j += 4)
                    wasm_v128_store(db + j, wasm_f32x4_add(wasm_v128_load(db + j), wasm_v128_load(g + j)));
                for (; j < o; j++) db[j] += g[j];
            }
            update(D, PTR(float, D->b[l]), db, PTR(float, D->mb[l]), PTR(float, D->vb[l]),
                   (size_t)o, c1, c2);
        }
    }
}

/*
 * One whole training epoch: for each mini-batch (rows taken in `order`), forward, loss,
 * backward and an optimizer step per trainable layer.  Frozen layers still pass gradients
 * down to trainable layers beneath them.  Called once per thread with tid in
 * [0, D->nthreads): with two threads, two instances over one shared memory run the parts
 * side by side and meet at two barriers per batch.  Thread 0 writes loss_sum / correct /
 * step; returns 1 if the host aborted the epoch (the other thread failed), else 0.
 */
EXPORT(mlp_train_epoch) int mlp_train_epoch(mlp_desc *D, int tid) {
    int n = D->n_samples, B = D->batch, nt = D->nthreads < 1 ? 1 : D->nthreads;
    int slot = tid < NSLOT ? tid : 0;
    train_bufs T;
    carve_train(D, &T);
    if (tid == 0)
        for (int q = 0; q < NPART; q++) T.loss[q] = 0.0, T.correct[q] = 0;
    if (barrier(D)) return 1;
    int step = D->step;
    for (int s0 = 0; s0 < n; s0 += B) {
        int rows = n - s0 < B ? n - s0 : B;
        if (nt == 1)
            rows_part(D, &T, s0, rows, -1, slot);
        else
            for (int p = tid; p < NPART; p += nt) rows_part(D, &T, s0, rows, p, slot);
        if (barrier(D)) return 1;
        step += 1;
        float c1 = 1.0f, c2 = 1.0f;
        if (D->optimizer == OPT_ADAM) {
            c1 = (float)(1.0 / (1.0 - powi((double)D->beta1, step)));
            c2 = (float)(1.0 / (1.0 - powi((double)D->beta2, step)));
        }
        if (nt == 1)
            units_part(D, &T, rows, -1, slot, c1, c2);
        else
            for (int p = tid; p < NPART; p += nt) units_part(D, &T, rows, p, slot, c1, c2);
        if (barrier(D)) return 1;
    }
    if (tid == 0) {
        double loss = 0.0;
        int correct = 0;
        for (int q = 0; q < NPART; q++) loss += T.loss[q], correct += T.correct[q];
        D->loss_sum = (float)loss;
        D->correct = correct;
        D->step = step;
    }
    return 0;
}

/* Batch inference: Y (n x out) = network(X), in chunks of `batch` rows. */
EXPORT(mlp_predict) void mlp_predict(mlp_desc *D, float *Y) {
    int L = D->n_layers, n = D->n_samples, B = D->batch, in0 = D->sizes[0], nout = D->sizes[L];
    float *p = PTR(float, D->work);
    float *A[MAXL + 1];
    for (int l = 0; l <= L; l++) A[l] = carve(&p, (size_t)B * D->sizes[l]);
    const float *X = PTR(float, D->X);
    for (int s0 = 0; s0 < n; s0 += B) {
        int rows = n - s0 < B ? n - s0 : B;
        float *a0 = A[0];
        A[0] = (float *)(X + (size_t)s0 * in0);
        forward(D, A, 0, rows, 0);
        A[0] = a0;
        const float *o = A[L];
        float *y = Y + (size_t)s0 * nout;
        for (size_t j = 0; j < (size_t)rows * nout; j++) y[j] = o[j];
    }
}
