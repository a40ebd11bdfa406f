/*
 * Tests of the four-server session (PrivPy) and of the numerical functions through the C API.
 * The primaries S1 and S2 are fxs_party objects made by fxs_party_new_with_assistants
 * (FXS_TOPOLOGY_FOUR_SERVERS); the assistants Sa and Sb run fxs_assistant_serve. Everything is
 * checked against a plaintext reference computed here, within each function's documented bound:
 * products and matrix products (PrivPy's Protocol 1: less than 4 units in the last place below
 * the rounded product), ReLU, comparison and argmax (exact), and the numerical functions
 * (reciprocal, division, exp at the ends of its range, log, sqrt, inverse sqrt, the logistic
 * function by exp and by Euler's method, tanh, select, equality, min/argmin, sum/mean/variance
 * along rows, columns and everything, broadcasting), in Z_2^128 with 32 fractional bits and in
 * Z_2^64 with 16.
 *
 * - threads joined by UNIX socket pairs: four servers in both rings; the same numerical checks
 *   with two servers and a dealer and with SecureNN's three; argument errors that leave the
 *   primaries usable; the precision guard (FXS_STATUS_PRECISION_GUARD at both parties on a
 *   product that would wrap, silent on ordinary ones); an assistant that leaves half-way through
 *   a ReLU (its connection to S1 cut after half the ReLU's bytes, measured in the same run):
 *   FXS_STATUS_CLOSED at S1 and S2, then FXS_STATUS_POISONED, and every thread ends; a primary
 *   whose peer is gone before the session starts (FXS_STATUS_CLOSED);
 * - four processes over TCP on 127.0.0.1 (Sa, Sb, S2, and S1 in this process): the same checks,
 *   then S1 kills Sa (SIGKILL) and the next ReLU ends with FXS_STATUS_CLOSED at S1 and S2;
 * - refused configurations (fxs_party_new with four servers, assistants without them, a dealer,
 *   another backend or truncation, a NULL assistant, a bad assistant index, a guard too large,
 *   the numerical functions in Z_2^32) with their documented statuses, before anything is sent.
 *
 * `test_four --quick` runs the four-server checks once per topology kind (threads and processes,
 * Z_2^128 only, no second ring) for slow runners such as valgrind.
 *
 * Every process sets an alarm: a hang ends the test with a failure instead of blocking.
 * Prints "N passed, M failed" and exits non-zero if anything failed.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixshare.h"
#include "harness.h"
#include "socket_transport.h"

/* The alarm of each child process (longer with --quick, meant for valgrind). */
static unsigned child_alarm = 300;

static void seed_for(uint8_t seed[32], uint8_t tag) {
    for (int i = 0; i < 32; i++) seed[i] = (uint8_t)(tag * 41 + i);
}

/* ----- the settings of one session ----- */

typedef struct setup {
    uint32_t topology, ring_bits, frac_bits, guard;
} setup;

static double ulp(const setup *s) { return ldexp(1.0, -(int)s->frac_bits); }

/* The value the fixed-point encoding of v holds (inputs are quantized before the reference). */
static double quant(const setup *s, double v) {
    return ldexp(nearbyint(ldexp(v, (int)s->frac_bits)), -(int)s->frac_bits);
}

/* The configuration both kinds of party share. */
static fxs_status config_for(const setup *s, uint32_t role, int *peer_fd, fxs_party_config *cfg) {
    fxs_status st = fxs_party_config_init(cfg);
    if (st != FXS_STATUS_OK) return st;
    cfg->topology = s->topology;
    cfg->role = role;
    cfg->ring_bits = s->ring_bits;
    cfg->frac_bits = s->frac_bits;
    cfg->precision_guard = s->guard;
    seed_for(cfg->seed, (uint8_t)(1 + role));
    cfg->peer = socket_transport(peer_fd);
    return FXS_STATUS_OK;
}

/* A primary of a four-server session: `peer_fd` joins it to the other primary, `sa_fd` and
 * `sb_fd` to the assistants. */
static fxs_status primary(const setup *s, uint32_t role, int *peer_fd, int *sa_fd, int *sb_fd,
                          fxs_party **out) {
    fxs_party_config cfg;
    fxs_transport to_sa = socket_transport(sa_fd), to_sb = socket_transport(sb_fd);
    fxs_status st = config_for(s, role, peer_fd, &cfg);
    if (st != FXS_STATUS_OK) return st;
    cfg.offline = FXS_OFFLINE_OT; /* the primaries' OT (exact truncation, circuits) */
    return fxs_party_new_with_assistants(&cfg, &to_sa, &to_sb, out);
}

/* A party of a two-server session with a dealer, or of a three-server one with the helper. */
static fxs_status dealt_party(const setup *s, uint32_t role, int *peer_fd, int *dealer_fd,
                              fxs_party **out) {
    fxs_party_config cfg;
    fxs_status st = config_for(s, role, peer_fd, &cfg);
    if (st != FXS_STATUS_OK) return st;
    cfg.dealer = socket_transport(dealer_fd);
    return fxs_party_new(&cfg, out);
}

/* ----- the plaintext reference ----- */

#define MAXN EXPECT_MAX /* the most values one check reveals */

static void expect_shape(const fxs_shares *x, size_t rows, size_t cols) {
    size_t r = 0, c = 0;
    CHECK_OK(fxs_shares_shape(x, &r, &c));
    CHECK(r == rows && c == cols);
}

/* Quantizes n values of `from` into `to`. */
static void quantize(const setup *s, const double *from, double *to, size_t n) {
    for (size_t i = 0; i < n; i++) to[i] = quant(s, from[i]);
}

/* ----- products, ReLU, comparison, argmax ----- */

#define NP 8
static const double PA[NP] = {1.5, -2.0, 0.0, 3.25, -0.375, 100.5, -7.75, 0.0625};
static const double PB[NP] = {0.5, 1.0, -7.0, 2.0, -8.5, 3.125, 1.0, -0.25};
/* Two rows of four: maxima 2.25 (column 2) and -0.5 (column 1, tied with column 3). */
static const double M[8] = {0.5, -1.0, 2.25, 2.0, -3.0, -0.5, -2.0, -0.5};

static void products_and_comparisons(const setup *s, uint32_t role, fxs_party *party) {
    /* Protocol 1 rounds each of its four cross terms down; a dealer's triples truncate once. */
    const double tol = (s->topology == FXS_TOPOLOGY_FOUR_SERVERS ? 4.5 : 1.0) * ulp(s);
    const double big = ldexp(1.0, (int)(s->ring_bits - s->frac_bits) - 6);
    double xv[NP + 2], want[MAXN], want2[MAXN];
    fxs_shares *a = input(party, role, 0, PA, NP, 1), *b = input(party, role, 1, PB, NP, 1);
    fxs_shares *m = input(party, role, 0, M, 2, 4), *x, *r = NULL, *r2 = NULL, *mt = NULL;
    memcpy(xv, PA, sizeof PA);
    xv[NP] = big;
    xv[NP + 1] = -big;
    x = input(party, role, 1, xv, NP + 2, 1);

    for (int i = 0; i < NP; i++) want[i] = PA[i] * PB[i];
    CHECK_OK(fxs_party_mul(party, a, b, &r));
    expect_within(party, r, want, NP, tol, "mul");
    fxs_shares_free(r);
    CHECK_OK(fxs_shares_transpose(m, &mt)); /* 4 x 2 */
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            double acc = 0;
            for (int t = 0; t < 4; t++) acc += M[i * 4 + t] * M[j * 4 + t];
            want[i * 2 + j] = acc;
        }
    CHECK_OK(fxs_party_matmul(party, m, mt, &r));
    expect_shape(r, 2, 2);
    expect_within(party, r, want, 4, tol, "matmul");
    fxs_shares_free(r);
    fxs_shares_free(mt);

    /* ReLU (with values far out in the ring), the comparison and argmax are exact. */
    for (int i = 0; i < NP + 2; i++) want[i] = xv[i] > 0 ? xv[i] : 0.0;
    CHECK_OK(fxs_party_relu(party, x, &r));
    expect_within(party, r, want, NP + 2, 0.0, "relu");
    fxs_shares_free(r);
    for (int i = 0; i < NP; i++) want[i] = PA[i] < PB[i] ? 1.0 : 0.0;
    CHECK_OK(fxs_party_less_than(party, a, b, &r));
    expect_within(party, r, want, NP, 0.0, "less_than");
    fxs_shares_free(r);
    want[0] = 2.25;
    want[1] = -0.5;
    want2[0] = 2.0;
    want2[1] = 1.0;
    CHECK_OK(fxs_party_argmax(party, m, &r, &r2));
    expect_within(party, r, want, 2, 0.0, "argmax: max");
    expect_within(party, r2, want2, 2, 0.0, "argmax: index");
    fxs_shares_free(r);
    fxs_shares_free(r2);
    fxs_shares_free(a);
    fxs_shares_free(b);
    fxs_shares_free(m);
    fxs_shares_free(x);
}

/* ----- the numerical functions ----- */

/* Runs a unary function on party 0's values xs (quantized), compares with f(x) within
 * tol(x, f(x)). */
typedef fxs_status (*unary_fn)(fxs_party *, const fxs_shares *, fxs_shares **);
typedef fxs_status (*ranged_fn)(fxs_party *, const fxs_shares *, const fxs_octaves *, fxs_shares **);
typedef struct unary_case {
    const char *name;
    unary_fn call;        /* or: */
    ranged_fn call_range; /* with the default range (NULL) */
    double (*exact)(double);
    double rel, abs_ulp; /* tolerance rel |f(x)| + abs_ulp ulp, or for the reciprocal family
                            rel / x (see below) */
    int rel_over_x;      /* tolerance rel / x (reciprocal) or rel / sqrt(x) (inverse sqrt) */
} unary_case;

static double recip(double x) { return 1.0 / x; }
static double inv_sqrt(double x) { return 1.0 / sqrt(x); }
static double logistic(double x) { return 1.0 / (1.0 + exp(-x)); }

static void check_unary(const setup *s, uint32_t role, fxs_party *party, const unary_case *c,
                        const double *xs, size_t n) {
    double xq[MAXN], want[MAXN], tol[MAXN];
    fxs_shares *x, *r = NULL;
    fxs_status st;
    quantize(s, xs, xq, n);
    for (size_t i = 0; i < n; i++) {
        double w = c->exact(xq[i]), scale = fabs(w);
        if (c->rel_over_x == 1) scale = 1.0 / xq[i];
        if (c->rel_over_x == 2) scale = 1.0 / sqrt(xq[i]);
        want[i] = w;
        tol[i] = c->rel * scale + c->abs_ulp * ulp(s);
    }
    x = input(party, role, 0, xq, n, 1);
    st = c->call ? c->call(party, x, &r) : c->call_range(party, x, NULL, &r);
    count(st == FXS_STATUS_OK, __FILE__, __LINE__, c->name);
    if (st == FXS_STATUS_OK) expect_near(party, r, want, n, tol, 0.0, c->name);
    fxs_shares_free(r);
    fxs_shares_free(x);
}

/* The default octaves [2^-h, 2^h], h = floor(f / 2). */
static int half_f(const setup *s) { return (int)s->frac_bits / 2; }

#define NR 3
#define NC 4
/* A 3 x 4 matrix for the reductions and broadcasting (ties for argmin in row 1). */
static const double R[NR * NC] = {1.5, -2.25, 3.0, 0.5, -1.0, 4.75, -1.0, 2.0, 0.25, 0.0, -6.5, 1.25};

/* Sum, mean, variance, min and argmin of R along `axis`, in plaintext: values to `sum`, ...,
 * `n_out` results, and the largest deviation from the mean in each reduction to `dev`. */
static size_t reduce_plain(uint32_t axis, double *sum, double *mean, double *var, double *mn,
                           double *idx, double *dev) {
    size_t outs = axis == FXS_AXIS_PER_ROW ? NR : axis == FXS_AXIS_PER_COLUMN ? NC : 1;
    for (size_t o = 0; o < outs; o++) {
        size_t cnt = axis == FXS_AXIS_PER_ROW ? NC : axis == FXS_AXIS_PER_COLUMN ? NR : NR * NC;
        double v[NR * NC];
        for (size_t k = 0; k < cnt; k++) {
            size_t at = axis == FXS_AXIS_PER_ROW ? o * NC + k : axis == FXS_AXIS_PER_COLUMN ? k * NC + o : k;
            v[k] = R[at];
        }
        sum[o] = 0;
        mn[o] = v[0];
        idx[o] = 0;
        for (size_t k = 0; k < cnt; k++) {
            sum[o] += v[k];
            if (v[k] < mn[o]) {
                mn[o] = v[k];
                idx[o] = (double)k;
            }
        }
        mean[o] = sum[o] / (double)cnt;
        var[o] = 0;
        dev[o] = 0;
        for (size_t k = 0; k < cnt; k++) {
            double d = v[k] - mean[o];
            var[o] += d * d;
            if (fabs(d) > dev[o]) dev[o] = fabs(d);
        }
        var[o] /= (double)cnt;
    }
    return outs;
}

static void reductions(const setup *s, uint32_t role, fxs_party *party) {
    static const uint32_t axes[3] = {FXS_AXIS_PER_ROW, FXS_AXIS_PER_COLUMN, FXS_AXIS_ALL};
    fxs_shares *x = input(party, role, 1, R, NR, NC);
    for (int a = 0; a < 3; a++) {
        double sum[NC], mean[NC], var[NC], mn[NC], idx[NC], dev[NC], tol[NC];
        size_t n = reduce_plain(axes[a], sum, mean, var, mn, idx, dev);
        size_t rows = axes[a] == FXS_AXIS_PER_ROW ? NR : 1, cols = axes[a] == FXS_AXIS_PER_COLUMN ? NC : 1;
        fxs_shares *r = NULL, *r2 = NULL;
        CHECK_OK(fxs_party_sum(party, x, axes[a], &r));
        expect_shape(r, rows, cols);
        expect_within(party, r, sum, n, 0.0, "sum");
        fxs_shares_free(r);
        CHECK_OK(fxs_party_mean(party, x, axes[a], &r));
        expect_shape(r, rows, cols);
        expect_within(party, r, mean, n, 2 * ulp(s), "mean");
        fxs_shares_free(r);
        for (size_t i = 0; i < n; i++) tol[i] = (4 * dev[i] + 5) * ulp(s);
        CHECK_OK(fxs_party_variance(party, x, axes[a], &r));
        expect_shape(r, rows, cols);
        expect_near(party, r, var, n, tol, 0.0, "variance");
        fxs_shares_free(r);
        CHECK_OK(fxs_party_min(party, x, axes[a], &r));
        expect_shape(r, rows, cols);
        expect_within(party, r, mn, n, 0.0, "min");
        fxs_shares_free(r);
        CHECK_OK(fxs_party_argmin(party, x, axes[a], &r, &r2));
        expect_shape(r2, rows, cols);
        expect_within(party, r, mn, n, 0.0, "argmin: min");
        expect_within(party, r2, idx, n, 0.0, "argmin: index");
        fxs_shares_free(r);
        fxs_shares_free(r2);
    }
    /* Broadcasting a row, a column and a scalar against R. */
    {
        static const double row[NC] = {1.0, -0.5, 2.0, 0.25}, col[NR] = {3.0, -1.5, 0.5}, one = -2.0;
        fxs_shares *vr = input(party, role, 0, row, 1, NC), *vc = input(party, role, 0, col, NR, 1);
        fxs_shares *v1 = input(party, role, 0, &one, 1, 1), *r = NULL;
        double want[NR * NC];
        for (int i = 0; i < NR * NC; i++) want[i] = R[i] + row[i % NC];
        CHECK_OK(fxs_party_broadcast(party, x, vr, FXS_BROADCAST_ADD, &r));
        expect_within(party, r, want, NR * NC, 0.0, "broadcast add (row)");
        fxs_shares_free(r);
        for (int i = 0; i < NR * NC; i++) want[i] = R[i] - col[i / NC];
        CHECK_OK(fxs_party_broadcast(party, x, vc, FXS_BROADCAST_SUB, &r));
        expect_within(party, r, want, NR * NC, 0.0, "broadcast sub (column)");
        fxs_shares_free(r);
        for (int i = 0; i < NR * NC; i++) want[i] = R[i] * row[i % NC];
        CHECK_OK(fxs_party_broadcast(party, x, vr, FXS_BROADCAST_MUL, &r));
        expect_within(party, r, want, NR * NC, ulp(s), "broadcast mul (row)");
        fxs_shares_free(r);
        for (int i = 0; i < NR * NC; i++) want[i] = R[i] * one;
        CHECK_OK(fxs_party_broadcast(party, x, v1, FXS_BROADCAST_MUL, &r));
        expect_within(party, r, want, NR * NC, ulp(s), "broadcast mul (scalar)");
        fxs_shares_free(r);
        fxs_shares_free(vr);
        fxs_shares_free(vc);
        fxs_shares_free(v1);
    }
    fxs_shares_free(x);
}

/* Every numerical function against the plaintext, within its documented bound. */
static void numerics(const setup *s, uint32_t role, fxs_party *party) {
    const int f = (int)s->frac_bits, h = half_f(s);
    const int sq = f <= 20 ? 4 : f <= 44 ? 5 : 6; /* exp's squarings */
    const double lo = ldexp(1.0, -h), hi = ldexp(1.0, h);
    /* Inputs over the default octaves, both ends included. */
    const double pos[8] = {lo, 1.5 * lo, 0.375, 1.0, 1.75, 7.5, 0.75 * hi, hi};
    const double wide[10] = {-40, -16.5, -3, -0.25, 0, 0.5, 2, 7.75, 16, 40};
    const double euler[7] = {-10, -3, -0.5, 0, 1, 4, 10};
    const unary_case recip_c = {"reciprocal", NULL, fxs_party_reciprocal, recip, ldexp(1.0, -(f + 2)), 3, 1};
    const unary_case sqrt_c = {"sqrt", NULL, fxs_party_sqrt, sqrt, 0, 2, 0};
    const unary_case isqrt_c = {"inv_sqrt", NULL, fxs_party_inv_sqrt, inv_sqrt, ldexp(1.0, -(f - 1)), 3, 2};
    const unary_case log_c = {"log", NULL, fxs_party_log, log, 0, 4, 0};
    const unary_case logistic_c = {"logistic", fxs_party_logistic, NULL, logistic, 0, 3, 0};
    const unary_case tanh_c = {"tanh", fxs_party_tanh, NULL, tanh, 0, 6, 0};
    const unary_case exp_c = {"exp", fxs_party_exp, NULL, exp, ldexp(1.0, sq - f - 1), 6, 0};
    double elo = 0, ehi = 0;

    check_unary(s, role, party, &recip_c, pos, 8);
    check_unary(s, role, party, &sqrt_c, pos, 8);
    check_unary(s, role, party, &isqrt_c, pos, 8);
    check_unary(s, role, party, &log_c, pos, 8);
    check_unary(s, role, party, &logistic_c, wide, 10);
    check_unary(s, role, party, &tanh_c, wide, 10);

    /* exp over its documented range, both ends included. */
    CHECK_OK(fxs_party_exp_range(party, &elo, &ehi));
    CHECK(elo == -ldexp(1.0, sq));
    CHECK(ehi > 5.5 && ehi <= ldexp(1.0, sq));
    {
        const double ehi_q = ldexp(floor(ldexp(ehi, f)), -f);
        const double xs[10] = {elo, elo / 2, -3, -1, 0, 0.5, 1, 2, ehi_q / 2, ehi_q};
        check_unary(s, role, party, &exp_c, xs, 10);
    }

    /* A reciprocal over a range of its own: [2^-2, 2^4]. */
    {
        const fxs_octaves range = {-2, 4};
        const double xs[5] = {0.25, 0.75, 3.0, 9.5, 16.0};
        double want[5], tol[5];
        fxs_shares *x = input(party, role, 1, xs, 5, 1), *r = NULL;
        for (int i = 0; i < 5; i++) {
            want[i] = 1.0 / xs[i];
            tol[i] = ldexp(1.0, -(f + 2)) / xs[i] + 3 * ulp(s);
        }
        CHECK_OK(fxs_party_reciprocal(party, x, &range, &r));
        expect_near(party, r, want, 5, tol, 0, "reciprocal over [2^-2, 2^4]");
        fxs_shares_free(r);
        fxs_shares_free(x);
    }

    /* Division: x / y for y over the default octaves. */
    {
        const double xs[8] = {1.0, -2.5, 0.375, 3.0, 10.0, -7.25, 0.0, 1.0};
        double want[8], tol[8], yq[8];
        fxs_shares *x = input(party, role, 0, xs, 8, 1), *y, *r = NULL;
        quantize(s, pos, yq, 8);
        y = input(party, role, 1, yq, 8, 1);
        for (int i = 0; i < 8; i++) {
            want[i] = xs[i] / yq[i];
            tol[i] = ldexp(1.0, -(f + 2)) * fabs(want[i]) + (3 * fabs(xs[i]) + 1) * ulp(s);
        }
        CHECK_OK(fxs_party_div(party, x, y, NULL, &r));
        expect_near(party, r, want, 8, tol, 0, "div");
        fxs_shares_free(r);
        fxs_shares_free(x);
        fxs_shares_free(y);
    }

    /* The logistic function by Euler's method: about 0.12 / steps + 4 ulp over |x| <= 10. */
    {
        const uint32_t steps = 50;
        double want[7];
        fxs_shares *x = input(party, role, 0, euler, 7, 1), *r = NULL;
        for (int i = 0; i < 7; i++) want[i] = logistic(euler[i]);
        CHECK_OK(fxs_party_logistic_euler(party, x, steps, &r));
        expect_within(party, r, want, 7, 0.12 / steps + 4 * ulp(s), "logistic_euler (50 steps)");
        fxs_shares_free(r);
        fxs_shares_free(x);
    }

    /* Selection by a comparison's bit, and equality (exact). */
    {
        fxs_shares *a = input(party, role, 0, PA, NP, 1), *b = input(party, role, 1, PB, NP, 1);
        fxs_shares *c = NULL, *r = NULL;
        double want[NP];
        CHECK_OK(fxs_party_less_than(party, a, b, &c));
        for (int i = 0; i < NP; i++) want[i] = PA[i] < PB[i] ? PA[i] : PB[i];
        CHECK_OK(fxs_party_select(party, c, a, b, &r));
        expect_within(party, r, want, NP, 0.0, "select (the smaller of a and b)");
        fxs_shares_free(r);
        fxs_shares_free(c);
        {
            const double bb[NP] = {1.5, 1.0, 0.0, 3.25, -0.375, 3.125, -7.75, -0.25};
            fxs_shares *e = input(party, role, 1, bb, NP, 1);
            for (int i = 0; i < NP; i++) want[i] = PA[i] == bb[i] ? 1.0 : 0.0;
            CHECK_OK(fxs_party_equal(party, a, e, &r));
            expect_within(party, r, want, NP, 0.0, "equal");
            fxs_shares_free(r);
            fxs_shares_free(e);
        }
        fxs_shares_free(a);
        fxs_shares_free(b);
    }
    reductions(s, role, party);
}

/* Argument errors of the numerical functions, found before anything is sent: the party stays
 * usable (a product afterwards is right). */
static void numeric_errors(const setup *s, uint32_t role, fxs_party *party) {
    fxs_shares *x = input(party, role, 0, M, 2, 4), *col = input(party, role, 0, M, 8, 1);
    fxs_shares *r = (fxs_shares *)&r, *r2 = (fxs_shares *)&r2;
    const fxs_octaves backwards = {3, -2}, wide = {-60, 4};
    double want[8];
    CHECK_STATUS(fxs_party_mean(party, x, 7, &r), FXS_STATUS_INVALID_ARGUMENT);
    CHECK(r == NULL);
    CHECK_MSG("fxs_party_mean: axis must be FXS_AXIS_PER_ROW, _PER_COLUMN or _ALL");
    CHECK_STATUS(fxs_party_argmin(party, x, 3, &r, &r2), FXS_STATUS_INVALID_ARGUMENT);
    CHECK(r == NULL && r2 == NULL);
    CHECK_STATUS(fxs_party_argmin(party, x, FXS_AXIS_ALL, &r, NULL), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_party_reciprocal(party, x, &backwards, &r), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_MSG("fxs_party_reciprocal: reciprocal: invalid argument: the octave range needs lo < hi");
    CHECK_STATUS(fxs_party_sqrt(party, x, &wide, &r), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(fxs_party_logistic_euler(party, x, 0, &r), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_MSG("the number of Euler steps must be 1 to 10000");
    CHECK_STATUS(fxs_party_logistic_euler(party, x, 10001, &r), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(fxs_party_broadcast(party, x, col, FXS_BROADCAST_ADD, &r), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(fxs_party_broadcast(party, x, x, 3, &r), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_MSG("op must be FXS_BROADCAST_ADD, _SUB or _MUL");
    CHECK_STATUS(fxs_party_select(party, x, x, col, &r), FXS_STATUS_DIMENSION_MISMATCH);
    CHECK_STATUS(fxs_party_div(party, x, col, NULL, &r), FXS_STATUS_DIMENSION_MISMATCH);
    CHECK_STATUS(fxs_party_equal(party, x, NULL, &r), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_party_exp(party, NULL, &r), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_party_exp(NULL, x, &r), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_party_tanh(party, x, NULL), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_party_exp_range(NULL, NULL, NULL), FXS_STATUS_NULL_POINTER);
    CHECK(r == NULL);
    {
        /* An empty axis: a 2 x 0 matrix along its rows. */
        fxs_shares *empty = input(party, role, 0, NULL, 2, 0);
        CHECK_STATUS(fxs_party_min(party, empty, FXS_AXIS_PER_ROW, &r), FXS_STATUS_INVALID_ARGUMENT);
        CHECK_MSG("nothing to reduce");
        CHECK_STATUS(fxs_party_mean(party, empty, FXS_AXIS_ALL, &r), FXS_STATUS_INVALID_ARGUMENT);
        fxs_shares_free(empty);
    }
    for (int i = 0; i < 8; i++) want[i] = M[i] * 2.0;
    CHECK_OK(fxs_party_broadcast(party, x, x, FXS_BROADCAST_ADD, &r));
    expect_within(party, r, want, 8, 0.0, "usable after the refused calls");
    fxs_shares_free(r);
    fxs_shares_free(x);
    fxs_shares_free(col);
    (void)s;
}

/* ----- servers as threads over socket pairs ----- */

typedef struct servers servers;
typedef void (*scenario_fn)(servers *, uint32_t role, fxs_party *);
struct servers {
    setup s;
    scenario_fn scenario;
    /* [0]: S1's end (peer) or the server's end; [1]: the primary's end (or Sb's for sa_sb). */
    int peer[2], s1_sa[2], s1_sb[2], s2_sa[2], s2_sb[2], sa_sb[2];
    long cut_sa_to_s2;         /* Sa's budget towards S2 (< 0: never cut) */
    long sa_to_s2_sent;        /* what Sa sent to S2 */
    fxs_status new_status[2];  /* creating S1 and S2 */
    fxs_status first_failure[2];
    char failure_msg[2][512];
    int ops[2];
    fxs_status server_status[2]; /* Sa and Sb (the dealer or helper: [0]) */
    char server_msg[2][512];
    fxs_stats server_stats[2];
};

typedef struct thread_arg {
    servers *t;
    uint32_t index;
} thread_arg;

static void *assistant_thread(void *arg) {
    thread_arg *a = (thread_arg *)arg;
    servers *t = a->t;
    uint8_t seed[32];
    int *s1 = a->index == 0 ? &t->s1_sa[0] : &t->s1_sb[0];
    int *s2 = a->index == 0 ? &t->s2_sa[0] : &t->s2_sb[0];
    int *other = &t->sa_sb[a->index];
    cut_wire w2 = {*s2, a->index == 0 ? t->cut_sa_to_s2 : -1, 0};
    fxs_transport to_s2 = {cut_send, cut_recv, NULL, &w2};
    fxs_transport to_s1 = socket_transport(s1), to_other = socket_transport(other);
    seed_for(seed, (uint8_t)(10 + a->index));
    t->server_status[a->index] = fxs_assistant_serve(a->index == 0 ? FXS_ROLE_SA : FXS_ROLE_SB, &to_s1, &to_s2,
                                                     &to_other, seed, &t->server_stats[a->index]);
    snprintf(t->server_msg[a->index], sizeof t->server_msg[a->index], "%s", fxs_last_error_message());
    if (a->index == 0) t->sa_to_s2_sent = w2.sent;
    /* An assistant that stopped leaves: every connection of it ends. */
    shutdown(*s1, SHUT_RDWR);
    shutdown(*s2, SHUT_RDWR);
    shutdown(*other, SHUT_RDWR);
    return NULL;
}

/* The dealer (two servers) or helper (three), over s1_sa[0] and s2_sa[0]. */
static void *dealer_thread(void *arg) {
    servers *t = (servers *)arg;
    uint8_t seed[32];
    fxs_transport t0 = socket_transport(&t->s1_sa[0]), t1 = socket_transport(&t->s2_sa[0]);
    seed_for(seed, 9);
    t->server_status[0] = fxs_dealer_serve(seed, &t0, &t1, &t->server_stats[0], &t->server_stats[1]);
    snprintf(t->server_msg[0], sizeof t->server_msg[0], "%s", fxs_last_error_message());
    shutdown(t->s1_sa[0], SHUT_RDWR);
    shutdown(t->s2_sa[0], SHUT_RDWR);
    return NULL;
}

static void *party_thread(void *arg) {
    thread_arg *a = (thread_arg *)arg;
    servers *t = a->t;
    uint32_t role = a->index;
    int *peer = &t->peer[role];
    int *sa = role == 0 ? &t->s1_sa[1] : &t->s2_sa[1], *sb = role == 0 ? &t->s1_sb[1] : &t->s2_sb[1];
    fxs_party *party = NULL;
    if (t->s.topology == FXS_TOPOLOGY_FOUR_SERVERS)
        t->new_status[role] = primary(&t->s, role, peer, sa, sb, &party);
    else
        t->new_status[role] = dealt_party(&t->s, role, peer, sa, &party);
    if (party != NULL) t->scenario(t, role, party);
    fxs_party_free(party);
    /* Closing the connections lets the peer and the other servers finish. */
    shutdown(*peer, SHUT_RDWR);
    shutdown(*sa, SHUT_RDWR);
    shutdown(*sb, SHUT_RDWR);
    return NULL;
}

static void run_servers(servers *t) {
    pthread_t srv[2], p[2];
    thread_arg sargs[2], pargs[2];
    int four = t->s.topology == FXS_TOPOLOGY_FOUR_SERVERS;
    int *pairs[6] = {t->peer, t->s1_sa, t->s1_sb, t->s2_sa, t->s2_sb, t->sa_sb};
    for (int i = 0; i < 6; i++) make_pair(pairs[i]);
    if (four) {
        for (uint32_t i = 0; i < 2; i++) {
            sargs[i].t = t;
            sargs[i].index = i;
            pthread_create(&srv[i], NULL, assistant_thread, &sargs[i]);
        }
    } else {
        pthread_create(&srv[0], NULL, dealer_thread, t);
    }
    for (uint32_t r = 0; r < 2; r++) {
        pargs[r].t = t;
        pargs[r].index = r;
        pthread_create(&p[r], NULL, party_thread, &pargs[r]);
    }
    pthread_join(p[0], NULL);
    pthread_join(p[1], NULL);
    pthread_join(srv[0], NULL);
    if (four) pthread_join(srv[1], NULL);
    for (int i = 0; i < 6; i++) {
        close(pairs[i][0]);
        close(pairs[i][1]);
    }
}

static void full_scenario(servers *t, uint32_t role, fxs_party *party) {
    if (t->s.topology == FXS_TOPOLOGY_FOUR_SERVERS) products_and_comparisons(&t->s, role, party);
    numerics(&t->s, role, party);
    numeric_errors(&t->s, role, party);
}

static void run_full(uint32_t topology, uint32_t ring_bits, uint32_t frac_bits) {
    servers t;
    memset(&t, 0, sizeof t);
    t.s.topology = topology;
    t.s.ring_bits = ring_bits;
    t.s.frac_bits = frac_bits;
    t.scenario = full_scenario;
    t.cut_sa_to_s2 = -1;
    run_servers(&t);
    CHECK(t.new_status[0] == FXS_STATUS_OK && t.new_status[1] == FXS_STATUS_OK);
    CHECK(t.server_status[0] == FXS_STATUS_OK);
    if (topology == FXS_TOPOLOGY_FOUR_SERVERS) {
        CHECK(t.server_status[1] == FXS_STATUS_OK);
        CHECK(t.server_stats[0].bytes_sent > 0 && t.server_stats[1].bytes_sent > 0);
    }
    if (failed > 0 && t.server_status[0] != FXS_STATUS_OK) fprintf(stderr, "  server: %s\n", t.server_msg[0]);
}

/* ----- the precision guard ----- */

static void guard_scenario(servers *t, uint32_t role, fxs_party *party) {
    /* Ordinary products pass; one that nears the ring's end is stopped at both primaries before
     * it computes a wrong number. Two servers: the product before its truncation must stay below
     * 2^(k - 1 - h) (|x y| < 2^(k - 1 - h - 2f)); four servers form products exactly in double
     * width, and their operands must stay below 2^((k - 1 + f) / 2) (PrivPy's Theorem 2). */
    const int k = (int)t->s.ring_bits, f = (int)t->s.frac_bits, h = (int)t->s.guard;
    const int four = t->s.topology == FXS_TOPOLOGY_FOUR_SERVERS;
    const double big = four ? ldexp(1.0, (k - 1 + f) / 2 - f + 1) : ldexp(1.0, (k - 1 - h - 2 * f) / 2 + 2);
    const double small[2] = {1.5, -2.0}, large[2] = {big, 1.0};
    const double want[2] = {1.5 * 1.5, 4.0};
    fxs_shares *a = input(party, role, 0, small, 2, 1), *b = input(party, role, 1, large, 2, 1);
    fxs_shares *r = NULL;
    fxs_status st;
    CHECK_OK(fxs_party_mul(party, a, a, &r));
    expect_within(party, r, want, 2, 5 * ulp(&t->s), "products under the guard");
    fxs_shares_free(r);
    r = NULL;
    st = fxs_party_mul(party, b, b, &r);
    t->first_failure[role] = st;
    snprintf(t->failure_msg[role], sizeof t->failure_msg[role], "%s", fxs_last_error_message());
    CHECK(r == NULL);
    CHECK_STATUS(fxs_party_mul(party, a, a, &r), FXS_STATUS_POISONED);
    CHECK_MSG("precision guard");
    fxs_shares_free(a);
    fxs_shares_free(b);
}

static void precision_guard(uint32_t topology, uint32_t ring_bits, uint32_t frac_bits, uint32_t guard) {
    servers t;
    memset(&t, 0, sizeof t);
    t.s.topology = topology;
    t.s.ring_bits = ring_bits;
    t.s.frac_bits = frac_bits;
    t.s.guard = guard;
    t.scenario = guard_scenario;
    t.cut_sa_to_s2 = -1;
    run_servers(&t);
    CHECK(t.new_status[0] == FXS_STATUS_OK && t.new_status[1] == FXS_STATUS_OK);
    CHECK(t.first_failure[0] == FXS_STATUS_PRECISION_GUARD);
    CHECK(t.first_failure[1] == FXS_STATUS_PRECISION_GUARD);
    CHECK(strncmp(t.failure_msg[0], "fxs_party_mul: mul", 18) == 0);
    CHECK(strstr(t.failure_msg[1], "the precision guard stopped the operation") != NULL);
    CHECK(strcmp(fxs_status_name(FXS_STATUS_PRECISION_GUARD), "FXS_STATUS_PRECISION_GUARD") == 0);
}

/* ----- an assistant that leaves half-way through a ReLU ----- */

#define NRELU 64
static double RELU_X[NRELU];

/* Shares a vector, then `relus` ReLUs (0 or 1 in the measuring runs, more when Sa leaves),
 * recording the first failing status; every call after it must be POISONED. */
static int relus;
static void relu_scenario(servers *t, uint32_t role, fxs_party *party) {
    fxs_shares *x = input(party, role, 0, RELU_X, NRELU, 1), *r = NULL;
    t->first_failure[role] = FXS_STATUS_OK;
    for (int i = 0; i < relus; i++) {
        fxs_status st = fxs_party_relu(party, x, &r);
        if (st != FXS_STATUS_OK) {
            t->first_failure[role] = st;
            snprintf(t->failure_msg[role], sizeof t->failure_msg[role], "%s", fxs_last_error_message());
            CHECK(r == NULL);
            CHECK_STATUS(fxs_party_relu(party, x, &r), FXS_STATUS_POISONED);
            CHECK_STATUS(fxs_party_exp(party, x, &r), FXS_STATUS_POISONED);
            CHECK_STATUS(fxs_party_mean(party, x, FXS_AXIS_ALL, &r), FXS_STATUS_POISONED);
            break;
        }
        t->ops[role]++;
        fxs_shares_free(r);
        r = NULL;
    }
    fxs_shares_free(x);
}

static servers relu_run(int n, long cut) {
    servers t;
    memset(&t, 0, sizeof t);
    t.s.topology = FXS_TOPOLOGY_FOUR_SERVERS;
    t.s.ring_bits = 128;
    t.s.frac_bits = 32;
    t.scenario = relu_scenario;
    t.cut_sa_to_s2 = cut;
    relus = n;
    run_servers(&t);
    return t;
}

static void assistant_leaves(void) {
    servers before, after, cut;
    for (int i = 0; i < NRELU; i++) RELU_X[i] = (i % 7) - 3.5 + i / 64.0;
    /* Sa's bytes to S2 for the shares alone, and with one ReLU: cut half-way between (Sa, the
     * helper of the sign step, sends S2 its share of the mask's bits and of the compared bit,
     * and both assistants send S2 a cross term of the product). */
    before = relu_run(0, -1);
    after = relu_run(1, -1);
    CHECK(before.server_status[0] == FXS_STATUS_OK && after.server_status[0] == FXS_STATUS_OK);
    CHECK(before.server_status[1] == FXS_STATUS_OK && after.server_status[1] == FXS_STATUS_OK);
    CHECK(after.ops[0] == 1 && after.ops[1] == 1);
    CHECK(after.sa_to_s2_sent > before.sa_to_s2_sent);
    cut = relu_run(3, (before.sa_to_s2_sent + after.sa_to_s2_sent) / 2);
    CHECK(cut.new_status[0] == FXS_STATUS_OK && cut.new_status[1] == FXS_STATUS_OK);
    /* The first ReLU fails at both primaries with CLOSED; Sa reports its own failure. */
    CHECK(cut.ops[0] == 0 && cut.ops[1] == 0);
    CHECK(cut.first_failure[0] == FXS_STATUS_CLOSED);
    CHECK(cut.first_failure[1] == FXS_STATUS_CLOSED);
    CHECK(cut.server_status[0] != FXS_STATUS_OK);
    /* The messages name the operation and the connection: S2 lost Sa; Sa names S2. */
    for (int i = 0; i < 2; i++) {
        CHECK(strncmp(cut.failure_msg[i], "fxs_party_relu: relu", 20) == 0);
        CHECK(strstr(cut.failure_msg[i], "(the connection to ") != NULL);
    }
    /* The first primary to fail lost an assistant (the other may lose its peer first). */
    CHECK(strstr(cut.failure_msg[0], "(the connection to assistant S") != NULL ||
          strstr(cut.failure_msg[1], "(the connection to assistant S") != NULL);
    CHECK(strncmp(cut.server_msg[0], "fxs_assistant_serve: ", 21) == 0);
    CHECK(strstr(cut.server_msg[0], "(the connection to S2, `to_s2`)") != NULL);
    if (failed > 0)
        fprintf(stderr, "  after the cut: S1 %s: %s\n  S2 %s: %s\n  Sa %s: %s\n  Sb %s: %s\n",
                fxs_status_name(cut.first_failure[0]), cut.failure_msg[0],
                fxs_status_name(cut.first_failure[1]), cut.failure_msg[1],
                fxs_status_name(cut.server_status[0]), cut.server_msg[0],
                fxs_status_name(cut.server_status[1]), cut.server_msg[1]);
}

/* ----- four processes over TCP ----- */

/* Callers' first bytes: the primaries' indices, and Sb's. */
#define HELLO_S1 0
#define HELLO_S2 1
#define HELLO_SB 3

/* An assistant process. Sa accepts S1, S2 and Sb; Sb connects to Sa, then accepts S1 and S2.
 * Sb ends with OK or CLOSED (Sa is killed: its next request fails, or the primaries close first). */
static void assistant_process(uint32_t index, int listener, unsigned short sa_port) {
    int fd[4] = {-1, -1, -1, -1}; /* by hello: S1, S2, -, Sb/Sa */
    uint8_t seed[32];
    fxs_status st;
    int expected = index == 0 ? 3 : 2;
    if (index == 1) fd[3] = tcp_connect_hello(sa_port, HELLO_SB, 1);
    for (int i = 0; i < expected; i++) {
        uint8_t who = 0xff;
        int c = tcp_accept_hello(listener, &who);
        if (who > 3 || who == 2 || fd[who] >= 0) exit(3);
        fd[who] = c;
    }
    close(listener);
    {
        fxs_transport to_s1 = socket_transport(&fd[0]), to_s2 = socket_transport(&fd[1]);
        fxs_transport to_other = socket_transport(&fd[3]);
        seed_for(seed, (uint8_t)(20 + index));
        st = fxs_assistant_serve(index == 0 ? FXS_ROLE_SA : FXS_ROLE_SB, &to_s1, &to_s2, &to_other, seed, NULL);
    }
    exit(st == FXS_STATUS_OK || (index == 1 && st == FXS_STATUS_CLOSED) ? 0 : 1);
}

/* S1 or S2 as a process (S1 in this one): the four-server checks, a ReLU, then, after S1 killed
 * Sa, a ReLU that fails with CLOSED. */
static void process_primary(const setup *s, uint32_t role, int peer_fd, int sa_fd, int sb_fd, pid_t sa) {
    fxs_party *party = NULL;
    fxs_shares *x = NULL, *r = NULL;
    const double v[4] = {-1.5, 0.0, 2.0, -0.25}, want[4] = {0.0, 0.0, 2.0, 0.0};
    CHECK_OK(primary(s, role, &peer_fd, &sa_fd, &sb_fd, &party));
    if (party == NULL) return;
    products_and_comparisons(s, role, party);
    numerics(s, role, party);
    x = input(party, role, 1, v, 4, 1);
    CHECK_OK(fxs_party_relu(party, x, &r));
    expect_within(party, r, want, 4, 0.0, "relu over TCP");
    fxs_shares_free(r);
    if (role == 0) {
        int st = 0;
        CHECK(kill(sa, SIGKILL) == 0);
        CHECK(waitpid(sa, &st, 0) == sa && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    }
    r = (fxs_shares *)&r;
    CHECK_STATUS(fxs_party_relu(party, x, &r), FXS_STATUS_CLOSED);
    CHECK_MSG("fxs_party_relu: relu");
    CHECK(r == NULL);
    CHECK_STATUS(fxs_party_drelu(party, x, &r), FXS_STATUS_POISONED);
    fxs_shares_free(x);
    fxs_party_free(party);
}

static void four_processes(uint32_t ring_bits, uint32_t frac_bits) {
    const setup s = {FXS_TOPOLOGY_FOUR_SERVERS, ring_bits, frac_bits, 0};
    unsigned short sa_port, sb_port, peer_port;
    int sa_l = tcp_listen(&sa_port), sb_l = tcp_listen(&sb_port), peer_l = tcp_listen(&peer_port);
    int st = 0;
    pid_t sa, sb, s2;
    sa = fork_or_die();
    if (sa == 0) {
        alarm(child_alarm);
        close(sb_l);
        close(peer_l);
        assistant_process(0, sa_l, 0);
    }
    sb = fork_or_die();
    if (sb == 0) {
        alarm(child_alarm);
        close(sa_l);
        close(peer_l);
        assistant_process(1, sb_l, sa_port);
    }
    close(sa_l);
    close(sb_l);
    s2 = fork_or_die();
    if (s2 == 0) {
        /* S2: its own process; reports through its exit status. */
        int peer_fd, sa_fd, sb_fd, before = failed;
        alarm(child_alarm);
        close(peer_l);
        sa_fd = tcp_connect_hello(sa_port, HELLO_S2, 1);
        sb_fd = tcp_connect_hello(sb_port, HELLO_S2, 1);
        peer_fd = tcp_connect_hello(peer_port, 'p', 1);
        process_primary(&s, FXS_ROLE_P1, peer_fd, sa_fd, sb_fd, 0);
        close(peer_fd);
        close(sa_fd);
        close(sb_fd);
        exit(failed == before ? 0 : 1);
    }
    {
        uint8_t hello = 0;
        int sa_fd = tcp_connect_hello(sa_port, HELLO_S1, 1);
        int sb_fd = tcp_connect_hello(sb_port, HELLO_S1, 1);
        int peer_fd = tcp_accept_hello(peer_l, &hello);
        CHECK(hello == 'p');
        close(peer_l);
        process_primary(&s, FXS_ROLE_P0, peer_fd, sa_fd, sb_fd, sa);
        close(peer_fd);
        close(sa_fd);
        close(sb_fd);
    }
    CHECK(waitpid(s2, &st, 0) == s2 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(waitpid(sb, &st, 0) == sb && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* ----- configurations refused before anything is sent ----- */

static void bad_configs(void) {
    fxs_party_config cfg;
    fxs_party *party = NULL;
    fxs_transport to_sa, to_sb, none;
    uint8_t seed[32];
    int peer[2], sa[2], sb[2], other[2];
    CHECK(FXS_TOPOLOGY_FOUR_SERVERS == 2 && FXS_ROLE_SA == 2 && FXS_ROLE_SB == 3);
    CHECK(FXS_AXIS_PER_ROW == 0 && FXS_AXIS_PER_COLUMN == 1 && FXS_AXIS_ALL == 2);
    CHECK(FXS_STATUS_PRECISION_GUARD == 202);
    CHECK_OK(fxs_party_config_init(&cfg));
    CHECK(cfg.precision_guard == 0);
    make_pair(peer);
    make_pair(sa);
    make_pair(sb);
    make_pair(other);
    memset(&none, 0, sizeof none);
    to_sa = socket_transport(&sa[0]);
    to_sb = socket_transport(&sb[0]);
    cfg.peer = socket_transport(&peer[0]);
    cfg.topology = FXS_TOPOLOGY_FOUR_SERVERS;
    cfg.offline = FXS_OFFLINE_OT;
    cfg.ring_bits = 128;
    cfg.frac_bits = 32;
    party = (fxs_party *)&cfg;

    /* Four servers connect with their assistants, and only they do. */
    CHECK_STATUS(fxs_party_new(&cfg, &party), FXS_STATUS_INVALID_ARGUMENT);
    CHECK(party == NULL);
    CHECK_MSG("fxs_party_new: four servers connect with fxs_party_new_with_assistants");
    cfg.topology = FXS_TOPOLOGY_TWO_SERVERS;
    CHECK_STATUS(fxs_party_new_with_assistants(&cfg, &to_sa, &to_sb, &party), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_MSG("fxs_party_new_with_assistants: fxs_party_new_with_assistants needs FXS_TOPOLOGY_FOUR_SERVERS");
    cfg.topology = FXS_TOPOLOGY_THREE_SERVERS;
    CHECK_STATUS(fxs_party_new_with_assistants(&cfg, &to_sa, &to_sb, &party), FXS_STATUS_INVALID_ARGUMENT);
    cfg.topology = FXS_TOPOLOGY_FOUR_SERVERS;
    /* The primaries run OT between them: no dealer. */
    cfg.offline = FXS_OFFLINE_DEALER;
    CHECK_STATUS(fxs_party_new_with_assistants(&cfg, &to_sa, &to_sb, &party), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_MSG("four servers run OT between the primaries: offline must be FXS_OFFLINE_OT");
    cfg.offline = FXS_OFFLINE_OT;
    cfg.dealer = socket_transport(&other[0]);
    CHECK_STATUS(fxs_party_new_with_assistants(&cfg, &to_sa, &to_sb, &party), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_MSG("dealer is set but the offline source is FXS_OFFLINE_OT");
    cfg.dealer = none;
    /* Comparisons run at the assistants (no keys), products divide by the scale themselves. */
    cfg.backend = FXS_BACKEND_FSS;
    CHECK_STATUS(fxs_party_new_with_assistants(&cfg, &to_sa, &to_sb, &party), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_MSG("the FSS backend needs the dealer as offline source");
    cfg.backend = FXS_BACKEND_AUTO;
    cfg.truncation = FXS_TRUNCATION_PAIRS;
    CHECK_STATUS(fxs_party_new_with_assistants(&cfg, &to_sa, &to_sb, &party), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_MSG("four servers divide by the scale inside their products");
    cfg.truncation = FXS_TRUNCATION_LOCAL;
    /* The guard's headroom must leave room in the ring. */
    cfg.precision_guard = 126;
    CHECK_STATUS(fxs_party_new_with_assistants(&cfg, &to_sa, &to_sb, &party), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_MSG("the precision guard's headroom must be below the ring width minus 2");
    cfg.precision_guard = 0;
    /* Roles: the assistants are not parties. */
    cfg.role = FXS_ROLE_SA;
    CHECK_STATUS(fxs_party_new_with_assistants(&cfg, &to_sa, &to_sb, &party), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_MSG("role must be FXS_ROLE_P0 or FXS_ROLE_P1");
    cfg.role = FXS_ROLE_P0;
    /* Missing connections. */
    CHECK_STATUS(fxs_party_new_with_assistants(&cfg, NULL, &to_sb, &party), FXS_STATUS_NULL_POINTER);
    CHECK_MSG("`to_sa` is NULL");
    CHECK_STATUS(fxs_party_new_with_assistants(&cfg, &to_sa, &none, &party), FXS_STATUS_NULL_POINTER);
    CHECK_MSG("to_sb.send or to_sb.recv is NULL");
    CHECK_STATUS(fxs_party_new_with_assistants(NULL, &to_sa, &to_sb, &party), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_party_new_with_assistants(&cfg, &to_sa, &to_sb, NULL), FXS_STATUS_NULL_POINTER);
    cfg.peer = none;
    CHECK_STATUS(fxs_party_new_with_assistants(&cfg, &to_sa, &to_sb, &party), FXS_STATUS_NULL_POINTER);
    CHECK(party == NULL);

    /* The assistant's entry point. */
    seed_for(seed, 5);
    CHECK_STATUS(fxs_assistant_serve(1, &to_sa, &to_sb, &to_sa, seed, NULL), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_MSG("fxs_assistant_serve: party must be FXS_ROLE_SA or FXS_ROLE_SB");
    CHECK_STATUS(fxs_assistant_serve(4, &to_sa, &to_sb, &to_sa, seed, NULL), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(fxs_assistant_serve(FXS_ROLE_SA, NULL, &to_sb, &to_sa, seed, NULL), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_assistant_serve(FXS_ROLE_SA, &to_sa, &to_sb, NULL, seed, NULL), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_assistant_serve(FXS_ROLE_SB, &to_sa, &to_sb, &none, seed, NULL), FXS_STATUS_NULL_POINTER);
    CHECK_MSG("to_other.send or .recv is NULL");
    CHECK_STATUS(fxs_assistant_serve(FXS_ROLE_SB, &to_sa, &to_sb, &to_sa, NULL, NULL), FXS_STATUS_NULL_POINTER);
    CHECK_MSG("`seed` is NULL");
    /* None of these sent anything. */
    CHECK(silent(peer[1]) && silent(sa[1]) && silent(sb[1]) && silent(other[1]));

    for (int i = 0; i < 2; i++) {
        close(peer[i]);
        close(sa[i]);
        close(sb[i]);
        close(other[i]);
    }
}

/* A primary whose peer is gone: fxs_party_new_with_assistants ends with CLOSED (nothing hangs),
 * naming the connection. */
static void peer_gone(void) {
    fxs_party *party = (fxs_party *)&party;
    int peer[2], sa[2], sb[2];
    const setup s = {FXS_TOPOLOGY_FOUR_SERVERS, 128, 32, 0};
    make_pair(peer);
    make_pair(sa);
    make_pair(sb);
    close(peer[1]);
    CHECK_STATUS(primary(&s, FXS_ROLE_P0, &peer[0], &sa[0], &sb[0], &party), FXS_STATUS_CLOSED);
    CHECK(party == NULL);
    CHECK_MSG("(the connection to the peer, `peer`)");
    close(peer[0]);
    for (int i = 0; i < 2; i++) {
        close(sa[i]);
        close(sb[i]);
    }
}

/* The numerical functions need Z_2^64 or Z_2^128: refused in Z_2^32 before anything is sent. */
static void z32_scenario(servers *t, uint32_t role, fxs_party *party) {
    fxs_shares *x = input(party, role, 0, M, 8, 1), *r = (fxs_shares *)&r;
    const double want[8] = {0.5, 0.0, 2.25, 2.0, 0.0, 0.0, 0.0, 0.0};
    CHECK_STATUS(fxs_party_reciprocal(party, x, NULL, &r), FXS_STATUS_UNSUPPORTED);
    CHECK_MSG("the numeric functions need Z_2^64 or Z_2^128");
    CHECK_STATUS(fxs_party_exp(party, x, &r), FXS_STATUS_UNSUPPORTED);
    CHECK(r == NULL);
    CHECK_OK(fxs_party_relu(party, x, &r));
    expect_within(party, r, want, 8, 0.0, "relu after the refusals (Z_2^32)");
    fxs_shares_free(r);
    fxs_shares_free(x);
    (void)t;
}

static void numerics_refused_in_z32(void) {
    servers t;
    memset(&t, 0, sizeof t);
    t.s.topology = FXS_TOPOLOGY_FOUR_SERVERS;
    t.s.ring_bits = 32;
    t.s.frac_bits = 8;
    t.scenario = z32_scenario;
    t.cut_sa_to_s2 = -1;
    run_servers(&t);
    CHECK(t.new_status[0] == FXS_STATUS_OK && t.new_status[1] == FXS_STATUS_OK);
    CHECK(t.server_status[0] == FXS_STATUS_OK && t.server_status[1] == FXS_STATUS_OK);
}

int main(int argc, char **argv) {
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    child_alarm = quick ? 1100 : 300;
    alarm(quick ? 1150 : 900); /* a hang is a failure */
    bad_configs();
    peer_gone();
    /* Processes first: no thread is running yet, so forking is safe. */
    four_processes(128, 32);
    run_full(FXS_TOPOLOGY_FOUR_SERVERS, 128, 32);
    if (!quick) {
        run_full(FXS_TOPOLOGY_FOUR_SERVERS, 64, 16);
        run_full(FXS_TOPOLOGY_TWO_SERVERS, 64, 16);
        run_full(FXS_TOPOLOGY_TWO_SERVERS, 128, 32);
        run_full(FXS_TOPOLOGY_THREE_SERVERS, 64, 16);
        numerics_refused_in_z32();
    }
    precision_guard(FXS_TOPOLOGY_FOUR_SERVERS, 128, 32, 40);
    precision_guard(FXS_TOPOLOGY_TWO_SERVERS, 64, 16, 20);
    assistant_leaves();
    return report();
}
