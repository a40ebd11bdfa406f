/*
 * Tests of the three-server session (SecureNN) through the C API. P0 and P1 are fxs_party objects
 * configured with FXS_TOPOLOGY_THREE_SERVERS; the helper P2 is fxs_dealer_serve over its two
 * connections (it has no program of its own). They compute ReLU, DReLU, comparisons, max/argmax,
 * max pooling and its derivative, division and the softmax replacement on shares, and products
 * from the helper's triples, each checked against a plaintext reference computed here, in Z_2^32,
 * Z_2^64 and Z_2^128, with FXS_BACKEND_AUTO and FXS_BACKEND_HELPER.
 *
 * - threads joined by UNIX socket pairs: every ring and backend; argument errors that leave the
 *   parties usable; a helper that leaves half-way through a ReLU (its connection to P1 cut after
 *   half the ReLU's bytes, measured in the same run): FXS_STATUS_CLOSED at P0 and P1, then
 *   FXS_STATUS_POISONED, and every thread ends;
 * - three processes over TCP on 127.0.0.1 (helper, P1, and P0 in this process): the same checks,
 *   then P0 kills the helper (SIGKILL) and the next ReLU ends with FXS_STATUS_CLOSED at P0 and P1;
 * - bad configurations (FXS_BACKEND_HELPER with two servers, three servers with OT, an unknown
 *   topology, a missing or silent helper) with their documented statuses, before anything is sent.
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

static void seed_for(uint8_t seed[32], uint8_t tag) {
    for (int i = 0; i < 32; i++) seed[i] = (uint8_t)(tag * 37 + i);
}

/* ----- the settings of one session ----- */

typedef struct setup {
    uint32_t ring_bits, frac_bits, truncation, backend;
} setup;

static double ulp(const setup *s) { return ldexp(1.0, -(int)s->frac_bits); }

/* A party of a three-server session: `peer_fd` joins it to the other party, `helper_fd` to P2. */
static fxs_status three_server_party(const setup *s, uint32_t role, int *peer_fd, int *helper_fd,
                                     fxs_party **out) {
    fxs_party_config cfg;
    fxs_status st = fxs_party_config_init(&cfg);
    if (st != FXS_STATUS_OK) return st;
    cfg.topology = FXS_TOPOLOGY_THREE_SERVERS;
    cfg.role = role;
    cfg.ring_bits = s->ring_bits;
    cfg.frac_bits = s->frac_bits;
    cfg.truncation = s->truncation;
    cfg.backend = s->backend;
    seed_for(cfg.seed, (uint8_t)(1 + role));
    cfg.peer = socket_transport(peer_fd);
    cfg.dealer = socket_transport(helper_fd); /* the helper: offline stays FXS_OFFLINE_DEALER */
    return fxs_party_new(&cfg, out);
}

/* ----- the plaintext reference ----- */

/* Party 0's vector: 0, one unit in the last place either side, large values of either sign
 * (set per ring by inputs()), and ordinary ones; party 1's vector to compare with. */
#define NX 10
static void inputs(const setup *s, double x[NX], double y[NX]) {
    const double big = ldexp(1.0, (int)(s->ring_bits - s->frac_bits) - 6);
    const double xs[NX] = {0.0, ulp(s), -ulp(s), big, -big, 1.5, -2.25, 3.0, -7.5, 0.375};
    const double ys[NX] = {0.0, 0.0, -ulp(s), -big, big, 1.5, -2.0, 2.0, -8.0, 0.5};
    memcpy(x, xs, sizeof xs);
    memcpy(y, ys, sizeof ys);
}

/* Two rows of four: maxima 2.25 (column 2) and -0.5 (column 1, tied with column 3). */
static const double M[8] = {0.5, -1.0, 2.25, 2.0, -3.0, -0.5, -2.0, -0.5};
/* Two 1 x 4 x 4 images (the second with ties inside windows). */
static const double IMG[32] = {1, 2, 0, -1, 5, -3, 2, 2, 0, 0, -1, -2, 4, 1, -6, 3,
                               -1, -1, 7, 0, -1, -1, 0, 7, 2.5, 0.5, 0, 0, 0.5, 2.5, 0, -4};
/* Division: numerators and denominators, 0 <= a <= b, b > 0. */
#define ND 8
static const double DA[ND] = {0.0, 1.0, 0.5, 1.25, 0.0, 3.0, 2.5, 6.0};
static const double DB[ND] = {1.0, 1.0, 2.0, 3.75, 0.25, 7.0, 2.5, 6.5};

/* The encoding of a value given exactly in fixed point (as every input here). */
static uint64_t enc(const setup *s, double v) { return (uint64_t)llround(ldexp(v, (int)s->frac_bits)); }

/* floor(a 2^f / b) on encodings, by schoolbook long division (remainders stay below 2b). */
static double plain_divide(const setup *s, double a, double b) {
    uint64_t r = enc(s, a), d = enc(s, b), q = 0;
    for (uint32_t i = 0; i <= s->frac_bits; i++) {
        if (r >= d) { /* the quotient bit of weight 2^(f - i) */
            r -= d;
            q |= (uint64_t)1 << (s->frac_bits - i);
        }
        r <<= 1;
    }
    return ldexp((double)q, -(int)s->frac_bits);
}

/* The window maximum at (oy, ox) of channel 0 of an h x w image, and its first position. */
static double window_max(const double *img, int w, int k, int st, int oy, int ox, int *at) {
    double m = -1e300;
    for (int dy = 0; dy < k; dy++)
        for (int dx = 0; dx < k; dx++) {
            int p = (oy * st + dy) * w + ox * st + dx;
            if (img[p] > m) {
                m = img[p];
                *at = p;
            }
        }
    return m;
}

/* Max pooling with its derivative against the plaintext: window maxima and the mask (1 at the
 * first maximum of each window, summed where windows overlap). One channel, h x w images. */
static void check_pool(fxs_party *party, const setup *s, const fxs_shares *img, int rows, int h,
                       int w, int k, int st, const char *what) {
    const int oh = (h - k) / st + 1, ow = (w - k) / st + 1;
    fxs_pool2d pool = {1, (size_t)h, (size_t)w, (size_t)k, (size_t)st};
    fxs_shares *m = NULL, *m2 = NULL, *mask = NULL;
    double want[64], want_mask[64];
    size_t r = 0, c = 0;
    memset(want_mask, 0, sizeof want_mask);
    for (int i = 0; i < rows; i++)
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                int at = 0;
                want[(i * oh + oy) * ow + ox] = window_max(IMG + i * h * w, w, k, st, oy, ox, &at);
                want_mask[i * h * w + at] += 1.0;
            }
    CHECK_OK(fxs_party_max_pool(party, img, &pool, &m));
    CHECK_OK(fxs_shares_shape(m, &r, &c));
    CHECK(r == (size_t)rows && c == (size_t)(oh * ow));
    expect_within(party, m, want, (size_t)(rows * oh * ow), 0.0, what);
    CHECK_OK(fxs_party_max_pool_with_derivative(party, img, &pool, &m2, &mask));
    CHECK_OK(fxs_shares_shape(mask, &r, &c));
    CHECK(r == (size_t)rows && c == (size_t)(h * w));
    expect_within(party, m2, want, (size_t)(rows * oh * ow), 0.0, "max_pool_with_derivative: maxima");
    expect_within(party, mask, want_mask, (size_t)(rows * h * w), 0.0, "max_pool_with_derivative: mask");
    (void)s;
    fxs_shares_free(m);
    fxs_shares_free(m2);
    fxs_shares_free(mask);
}

/* Everything the helper's backend computes, against the plaintext (both parties check). */
static void securenn(const setup *s, uint32_t role, fxs_party *party) {
    double xv[NX], yv[NX], want[64], want2[64];
    fxs_shares *x, *y, *m, *img, *a, *b, *r = NULL, *r2 = NULL;
    fxs_stats peer, offline;
    inputs(s, xv, yv);
    x = input(party, role, 0, xv, NX, 1);
    y = input(party, role, 1, yv, NX, 1);
    m = input(party, role, 0, M, 2, 4);
    img = input(party, role, 1, IMG, 2, 16);
    a = input(party, role, 0, DA, ND, 1);
    b = input(party, role, 1, DB, ND, 1);

    /* ReLU, DReLU and the comparison are exact. */
    for (int i = 0; i < NX; i++) want[i] = xv[i] > 0 ? xv[i] : 0.0;
    for (int i = 0; i < NX; i++) want2[i] = xv[i] >= 0 ? 1.0 : 0.0;
    CHECK_OK(fxs_party_relu(party, x, &r));
    expect_within(party, r, want, NX, 0.0, "relu");
    fxs_shares_free(r);
    CHECK_OK(fxs_party_drelu(party, x, &r));
    expect_within(party, r, want2, NX, 0.0, "drelu");
    fxs_shares_free(r);
    CHECK_OK(fxs_party_relu_with_derivative(party, x, &r, &r2));
    expect_within(party, r, want, NX, 0.0, "relu_with_derivative: relu");
    expect_within(party, r2, want2, NX, 0.0, "relu_with_derivative: derivative");
    fxs_shares_free(r);
    fxs_shares_free(r2);
    for (int i = 0; i < NX; i++) want[i] = xv[i] < yv[i] ? 1.0 : 0.0;
    CHECK_OK(fxs_party_less_than(party, x, y, &r));
    expect_within(party, r, want, NX, 0.0, "less_than");
    fxs_shares_free(r);

    /* Row maxima and their first index. */
    want[0] = 2.25;
    want[1] = -0.5;
    want2[0] = 2.0;
    want2[1] = 1.0;
    CHECK_OK(fxs_party_max(party, m, &r));
    expect_within(party, r, want, 2, 0.0, "max");
    fxs_shares_free(r);
    CHECK_OK(fxs_party_argmax(party, m, &r, &r2));
    expect_within(party, r, want, 2, 0.0, "argmax: max");
    expect_within(party, r2, want2, 2, 0.0, "argmax: index");
    fxs_shares_free(r);
    fxs_shares_free(r2);

    /* Max pooling and its derivative: 2 x 2 windows (SecureNN's unit vectors) without and with
     * overlap, 3 x 3 windows (one equality test per position). */
    check_pool(party, s, img, 2, 4, 4, 2, 2, "max_pool 2x2/2");
    check_pool(party, s, img, 2, 4, 4, 2, 1, "max_pool 2x2/1");
    check_pool(party, s, img, 2, 4, 4, 3, 1, "max_pool 3x3/1");

    /* Division: exactly floor(a 2^f / b), and within one unit of a / b. */
    for (int i = 0; i < ND; i++) want[i] = plain_divide(s, DA[i], DB[i]);
    CHECK_OK(fxs_party_divide(party, a, b, &r));
    expect_within(party, r, want, ND, 0.0, "divide (the floor of the quotient)");
    for (int i = 0; i < ND; i++) want[i] = DA[i] / DB[i];
    expect_within(party, r, want, ND, ulp(s), "divide (within one unit of a / b)");
    fxs_shares_free(r);

    /* SecureML's softmax replacement by the helper: ReLU, then a division per value. */
    for (int i = 0; i < 4; i++) want[i] = (M[i] > 0 ? M[i] : 0.0) / 4.75;
    for (int i = 4; i < 8; i++) want[i] = 0.25;
    CHECK_OK(fxs_party_relu_softmax(party, m, &r));
    expect_within(party, r, want, 8, 2 * ulp(s), "relu_softmax");
    fxs_shares_free(r);

    /* Products from the helper's triples (one truncation each). */
    for (int i = 0; i < ND; i++) want[i] = DA[i] * DB[i];
    CHECK_OK(fxs_party_mul(party, a, b, &r));
    expect_within(party, r, want, ND, 2 * ulp(s), "mul");
    fxs_shares_free(r);
    {
        fxs_shares *mt = NULL;
        CHECK_OK(fxs_shares_transpose(m, &mt)); /* 4 x 2 */
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++) {
                double acc = 0;
                for (int t = 0; t < 4; t++) acc += M[i * 4 + t] * M[j * 4 + t];
                want[i * 2 + j] = acc;
            }
        CHECK_OK(fxs_party_matmul(party, m, mt, &r));
        expect_within(party, r, want, 4, 2 * ulp(s), "matmul");
        fxs_shares_free(r);
        fxs_shares_free(mt);
    }

    /* Argument errors, found before anything is sent: the party stays usable. */
    {
        fxs_pool2d pool = {1, 4, 4, 5, 1};
        r = (fxs_shares *)&r;
        r2 = (fxs_shares *)&r2;
        CHECK_STATUS(fxs_party_divide(party, a, x, &r), FXS_STATUS_DIMENSION_MISMATCH);
        CHECK(r == NULL);
        CHECK_MSG("fxs_party_divide: `x` and `y` have different shapes");
        CHECK_STATUS(fxs_party_divide(party, a, NULL, &r), FXS_STATUS_NULL_POINTER);
        CHECK_STATUS(fxs_party_max_pool_with_derivative(party, img, &pool, &r, &r2), FXS_STATUS_INVALID_ARGUMENT);
        CHECK(r == NULL && r2 == NULL);
        CHECK_MSG("window larger than the image");
        pool.window = 2;
        pool.height = 3;
        CHECK_STATUS(fxs_party_max_pool_with_derivative(party, img, &pool, &r, &r2), FXS_STATUS_DIMENSION_MISMATCH);
        pool.height = 4;
        CHECK_STATUS(fxs_party_max_pool_with_derivative(party, img, NULL, &r, &r2), FXS_STATUS_NULL_POINTER);
        CHECK_STATUS(fxs_party_max_pool_with_derivative(party, img, &pool, &r, NULL), FXS_STATUS_NULL_POINTER);
        CHECK(r == NULL);
        CHECK_MSG("`out` is NULL");
    }
    for (int i = 0; i < NX; i++) want[i] = xv[i] > 0 ? xv[i] : 0.0;
    CHECK_OK(fxs_party_relu(party, x, &r));
    expect_within(party, r, want, NX, 0.0, "relu after argument errors");
    fxs_shares_free(r);

    /* Online traffic with the peer and the helper; the helper's dealing apart. */
    CHECK_OK(fxs_party_stats(party, &peer, &offline));
    CHECK(peer.bytes_sent > 0 && peer.bytes_received > 0 && peer.rounds > 0);
    CHECK(offline.bytes_received > 0);

    fxs_shares_free(x);
    fxs_shares_free(y);
    fxs_shares_free(m);
    fxs_shares_free(img);
    fxs_shares_free(a);
    fxs_shares_free(b);
}

/* ----- three threads over socket pairs ----- */

struct trio;
typedef void (*scenario_fn)(struct trio *t, uint32_t role, fxs_party *party);

typedef struct trio {
    setup s;
    scenario_fn scenario;
    int peer[2], helper0[2], helper1[2];
    long cut_to_p1;                /* the helper's bytes to P1 before it leaves; < 0: never */
    fxs_status helper_status;
    fxs_stats helper_stats[2];     /* the helper's traffic to P0 and P1 */
    fxs_status new_status[2];      /* fxs_party_new at P0 and P1 */
    fxs_status first_failure[2];   /* the first failing call of the scenario, or OK */
    char failure_msg[2][256];      /* and its message */
    char helper_msg[256];          /* the helper's message if it failed */
    int ops[2];                    /* calls that succeeded before it */
} trio;

typedef struct party_arg {
    trio *t;
    uint32_t role;
} party_arg;

static void *helper_thread(void *arg) {
    trio *t = (trio *)arg;
    uint8_t seed[32];
    cut_wire w0 = {t->helper0[0], -1, 0}, w1 = {t->helper1[0], t->cut_to_p1, 0};
    fxs_transport t0 = {cut_send, cut_recv, NULL, &w0};
    fxs_transport t1 = {cut_send, cut_recv, NULL, &w1};
    seed_for(seed, 3);
    /* The helper P2 is the dealer's serve: the same entry point as with two servers. */
    t->helper_status = fxs_dealer_serve(seed, &t0, &t1, &t->helper_stats[0], &t->helper_stats[1]);
    snprintf(t->helper_msg, sizeof t->helper_msg, "%s", fxs_last_error_message());
    /* A helper that stopped leaves: both parties see their connection end. */
    shutdown(t->helper0[0], SHUT_RDWR);
    shutdown(t->helper1[0], SHUT_RDWR);
    return NULL;
}

static void *party_thread(void *arg) {
    party_arg *a = (party_arg *)arg;
    trio *t = a->t;
    int *helper_fd = a->role == 0 ? &t->helper0[1] : &t->helper1[1];
    int *peer_fd = &t->peer[a->role];
    fxs_party *party = NULL;
    t->new_status[a->role] = three_server_party(&t->s, a->role, peer_fd, helper_fd, &party);
    if (party != NULL) t->scenario(t, a->role, party);
    fxs_party_free(party);
    /* Closing the connections lets the peer and the helper finish. */
    shutdown(*peer_fd, SHUT_RDWR);
    shutdown(*helper_fd, SHUT_RDWR);
    return NULL;
}

static void run_trio(trio *t) {
    pthread_t h, p[2];
    party_arg args[2];
    make_pair(t->peer);
    make_pair(t->helper0);
    make_pair(t->helper1);
    pthread_create(&h, NULL, helper_thread, t);
    for (uint32_t r = 0; r < 2; r++) {
        args[r].t = t;
        args[r].role = r;
        pthread_create(&p[r], NULL, party_thread, &args[r]);
    }
    pthread_join(p[0], NULL);
    pthread_join(p[1], NULL);
    pthread_join(h, NULL);
    for (int i = 0; i < 2; i++) {
        close(t->peer[i]);
        close(t->helper0[i]);
        close(t->helper1[i]);
    }
}

static void securenn_scenario(trio *t, uint32_t role, fxs_party *party) { securenn(&t->s, role, party); }

static void run_securenn(uint32_t ring_bits, uint32_t frac_bits, uint32_t truncation, uint32_t backend) {
    trio t;
    memset(&t, 0, sizeof t);
    t.s.ring_bits = ring_bits;
    t.s.frac_bits = frac_bits;
    t.s.truncation = truncation;
    t.s.backend = backend;
    t.scenario = securenn_scenario;
    t.cut_to_p1 = -1;
    run_trio(&t);
    CHECK(t.new_status[0] == FXS_STATUS_OK && t.new_status[1] == FXS_STATUS_OK);
    CHECK(t.helper_status == FXS_STATUS_OK);
    CHECK(t.helper_stats[0].bytes_sent > 0 && t.helper_stats[1].bytes_sent > 0);
}

/* ----- a helper that leaves half-way through a ReLU ----- */

#define NR 64
static double RELU_X[NR];

/* Shares a vector, then `relus` ReLUs (0 or 1 in the measuring runs, more when the helper
 * leaves), recording the first failing status; every call after it must be POISONED. */
static int relus;
static void relu_scenario(trio *t, uint32_t role, fxs_party *party) {
    fxs_shares *x = input(party, role, 0, RELU_X, NR, 1), *r = NULL, *r2 = NULL;
    t->first_failure[role] = FXS_STATUS_OK;
    for (int i = 0; i < relus; i++) {
        fxs_status st = fxs_party_relu(party, x, &r);
        if (st != FXS_STATUS_OK) {
            t->first_failure[role] = st;
            snprintf(t->failure_msg[role], sizeof t->failure_msg[role], "%s", fxs_last_error_message());
            CHECK(r == NULL);
            /* Later calls fail at once, naming the first failure. */
            CHECK_STATUS(fxs_party_relu(party, x, &r), FXS_STATUS_POISONED);
            CHECK_STATUS(fxs_party_divide(party, x, x, &r), FXS_STATUS_POISONED);
            CHECK_STATUS(fxs_party_max_pool_with_derivative(party, x, NULL, &r, &r2), FXS_STATUS_POISONED);
            break;
        }
        t->ops[role]++;
        fxs_shares_free(r);
        r = NULL;
    }
    fxs_shares_free(x);
}

static trio relu_run(int n, long cut) {
    trio t;
    memset(&t, 0, sizeof t);
    t.s.ring_bits = 64;
    t.s.frac_bits = 16;
    t.s.truncation = FXS_TRUNCATION_LOCAL;
    t.s.backend = FXS_BACKEND_HELPER;
    t.scenario = relu_scenario;
    t.cut_to_p1 = cut;
    relus = n;
    run_trio(&t);
    return t;
}

static void helper_leaves(void) {
    trio before, after, cut;
    for (int i = 0; i < NR; i++) RELU_X[i] = (i % 7) - 3.5 + i / 64.0;
    /* The helper's bytes to P1 for the shares alone, and with one ReLU: cut half-way between. */
    before = relu_run(0, -1);
    after = relu_run(1, -1);
    CHECK(before.helper_status == FXS_STATUS_OK && after.helper_status == FXS_STATUS_OK);
    CHECK(after.helper_stats[1].bytes_sent > before.helper_stats[1].bytes_sent);
    cut = relu_run(3, (long)(before.helper_stats[1].bytes_sent + after.helper_stats[1].bytes_sent) / 2);
    CHECK(cut.new_status[0] == FXS_STATUS_OK && cut.new_status[1] == FXS_STATUS_OK);
    /* The first ReLU fails at both parties with CLOSED; the helper itself reports its failure. */
    CHECK(cut.ops[0] == 0 && cut.ops[1] == 0);
    CHECK(cut.first_failure[0] == FXS_STATUS_CLOSED);
    CHECK(cut.first_failure[1] == FXS_STATUS_CLOSED);
    CHECK(cut.helper_status != FXS_STATUS_OK);
    /* The messages name the operation and the connection: P1 lost the helper, and the helper
     * names the party it lost (P0 saw its peer or the helper go, whichever came first). */
    CHECK(strncmp(cut.failure_msg[0], "fxs_party_relu: relu: ", 22) == 0);
    CHECK(strstr(cut.failure_msg[0], "(the connection to the") != NULL);
    CHECK(strncmp(cut.failure_msg[1], "fxs_party_relu: relu: ", 22) == 0);
    CHECK(strstr(cut.failure_msg[1], "(the connection to the helper, `dealer`)") != NULL);
    CHECK(strncmp(cut.helper_msg, "fxs_dealer_serve: ", 18) == 0);
    CHECK(strstr(cut.helper_msg, "(the connection to party 1, `to_party1`)") != NULL);
    if (failed > 0)
        fprintf(stderr, "  after the cut: P0 %s: %s\n  P1 %s: %s\n  helper %s: %s\n",
                fxs_status_name(cut.first_failure[0]), cut.failure_msg[0],
                fxs_status_name(cut.first_failure[1]), cut.failure_msg[1],
                fxs_status_name(cut.helper_status), cut.helper_msg);
}

/* ----- three processes over TCP ----- */

/* The helper process: accepts P0 and P1 (in either order) and serves them. */
static void helper_process(int listener) {
    int fd[2] = {-1, -1}, before = failed;
    uint8_t seed[32];
    for (int i = 0; i < 2; i++) {
        uint8_t who = 0xff;
        int c = tcp_accept_hello(listener, &who);
        if (who > 1 || fd[who] >= 0) exit(3);
        fd[who] = c;
    }
    close(listener);
    {
        fxs_transport t0 = socket_transport(&fd[0]), t1 = socket_transport(&fd[1]);
        seed_for(seed, 7);
        CHECK_OK(fxs_dealer_serve(seed, &t0, &t1, NULL, NULL));
    }
    exit(failed == before ? 0 : 1);
}

/* P0 or P1 as its own process (or P0 in this one): the SecureNN checks, one more ReLU, then,
 * after P0 killed the helper, a ReLU that fails with CLOSED. */
static void process_party(const setup *s, uint32_t role, int peer_fd, int helper_fd, pid_t helper) {
    fxs_party *party = NULL;
    fxs_shares *x = NULL, *r = NULL;
    const double v[4] = {-1.5, 0.0, 2.0, -0.25}, want[4] = {0.0, 0.0, 2.0, 0.0};
    CHECK_OK(three_server_party(s, role, &peer_fd, &helper_fd, &party));
    if (party == NULL) return;
    securenn(s, role, party);
    x = input(party, role, 1, v, 4, 1);
    CHECK_OK(fxs_party_relu(party, x, &r));
    expect_within(party, r, want, 4, 0.0, "relu over TCP");
    fxs_shares_free(r);
    if (role == 0) {
        int st = 0;
        CHECK(kill(helper, SIGKILL) == 0);
        CHECK(waitpid(helper, &st, 0) == helper && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    }
    r = (fxs_shares *)&r;
    CHECK_STATUS(fxs_party_relu(party, x, &r), FXS_STATUS_CLOSED);
    CHECK_MSG("fxs_party_relu: relu");
    CHECK(r == NULL);
    CHECK_STATUS(fxs_party_drelu(party, x, &r), FXS_STATUS_POISONED);
    fxs_shares_free(x);
    fxs_party_free(party);
}

static void three_processes(void) {
    const setup s = {64, 16, FXS_TRUNCATION_LOCAL, FXS_BACKEND_AUTO};
    unsigned short helper_port, peer_port;
    int helper_listener = tcp_listen(&helper_port), peer_listener = tcp_listen(&peer_port);
    int st = 0;
    pid_t helper, p1;
    helper = fork_or_die();
    if (helper == 0) {
        alarm(120);
        close(peer_listener);
        helper_process(helper_listener);
    }
    close(helper_listener);
    p1 = fork_or_die();
    if (p1 == 0) {
        /* P1: its own process; reports through its exit status. */
        int helper_fd, peer_fd, before = failed;
        alarm(120);
        close(peer_listener);
        helper_fd = tcp_connect_hello(helper_port, 1, 1);
        peer_fd = tcp_connect_hello(peer_port, 'p', 1);
        process_party(&s, FXS_ROLE_P1, peer_fd, helper_fd, 0);
        close(peer_fd);
        close(helper_fd);
        exit(failed == before ? 0 : 1);
    }
    {
        uint8_t hello = 0;
        int helper_fd = tcp_connect_hello(helper_port, 0, 1);
        int peer_fd = tcp_accept_hello(peer_listener, &hello);
        CHECK(hello == 'p');
        close(peer_listener);
        process_party(&s, FXS_ROLE_P0, peer_fd, helper_fd, helper);
        close(peer_fd);
        close(helper_fd);
    }
    CHECK(waitpid(p1, &st, 0) == p1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* ----- configurations refused before anything is sent ----- */

static void bad_configs(void) {
    fxs_party_config cfg;
    fxs_party *party = NULL;
    int peer[2], dealer[2];
    CHECK(FXS_TOPOLOGY_TWO_SERVERS == 0 && FXS_TOPOLOGY_THREE_SERVERS == 1 && FXS_BACKEND_HELPER == 3);
    CHECK_OK(fxs_party_config_init(&cfg));
    CHECK(cfg.topology == FXS_TOPOLOGY_TWO_SERVERS && cfg.backend == FXS_BACKEND_AUTO);
    make_pair(peer);
    make_pair(dealer);
    cfg.peer = socket_transport(&peer[0]);
    cfg.dealer = socket_transport(&dealer[0]);
    party = (fxs_party *)&cfg;

    /* The helper's backend needs the helper. */
    cfg.backend = FXS_BACKEND_HELPER;
    CHECK_STATUS(fxs_party_new(&cfg, &party), FXS_STATUS_INVALID_ARGUMENT);
    CHECK(party == NULL);
    CHECK_MSG("fxs_party_new: session config: invalid argument: the helper backend needs a third server (three or four servers)");
    cfg.offline = FXS_OFFLINE_OT;
    memset(&cfg.dealer, 0, sizeof cfg.dealer);
    CHECK_STATUS(fxs_party_new(&cfg, &party), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_MSG("the helper backend needs a third server (three or four servers)");
    /* Three servers take their correlations from the helper, not from OT. */
    cfg.topology = FXS_TOPOLOGY_THREE_SERVERS;
    CHECK_STATUS(fxs_party_new(&cfg, &party), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_MSG("three servers take their correlations from the helper");
    cfg.backend = FXS_BACKEND_AUTO;
    CHECK_STATUS(fxs_party_new(&cfg, &party), FXS_STATUS_INVALID_ARGUMENT);
    /* Three servers need the helper's connection. */
    cfg.offline = FXS_OFFLINE_DEALER;
    CHECK_STATUS(fxs_party_new(&cfg, &party), FXS_STATUS_NULL_POINTER);
    CHECK_MSG("dealer.send or dealer.recv is NULL (with three servers: the helper)");
    cfg.dealer = socket_transport(&dealer[0]);
    /* Unknown constants. */
    cfg.topology = 3;
    CHECK_STATUS(fxs_party_new(&cfg, &party), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_MSG("topology must be FXS_TOPOLOGY_TWO_SERVERS, _THREE_SERVERS or _FOUR_SERVERS");
    cfg.topology = FXS_TOPOLOGY_THREE_SERVERS;
    cfg.backend = 4;
    CHECK_STATUS(fxs_party_new(&cfg, &party), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_MSG("backend must be FXS_BACKEND_AUTO, _GARBLED_CIRCUITS, _FSS or _HELPER");
    cfg.backend = FXS_BACKEND_HELPER;
    cfg.role = 2; /* the helper is not a party: it runs fxs_dealer_serve */
    CHECK_STATUS(fxs_party_new(&cfg, &party), FXS_STATUS_INVALID_ARGUMENT);
    cfg.role = FXS_ROLE_P0;
    cfg.ring_bits = 48;
    CHECK_STATUS(fxs_party_new(&cfg, &party), FXS_STATUS_INVALID_ARGUMENT);
    cfg.ring_bits = 64;
    /* None of these sent anything to the peer or the helper. */
    CHECK(silent(peer[1]) && silent(dealer[1]));

    /* A helper that hangs up before sending this party's seed. */
    close(dealer[1]);
    CHECK_STATUS(fxs_party_new(&cfg, &party), FXS_STATUS_CLOSED);
    CHECK_MSG("fxs_party_new: dealer.seed");
    CHECK_MSG("(the connection to the helper, `dealer`)");
    CHECK(party == NULL);
    close(dealer[0]);
    close(peer[0]);
    close(peer[1]);
}

int main(void) {
    alarm(600); /* a hang is a failure */
    bad_configs();
    /* Processes first: no thread is running yet, so forking is safe. */
    three_processes();
    run_securenn(64, 16, FXS_TRUNCATION_LOCAL, FXS_BACKEND_HELPER);
    run_securenn(64, 16, FXS_TRUNCATION_PAIRS, FXS_BACKEND_AUTO);
    run_securenn(32, 8, FXS_TRUNCATION_LOCAL, FXS_BACKEND_HELPER);
    run_securenn(128, 30, FXS_TRUNCATION_EXACT, FXS_BACKEND_AUTO);
    helper_leaves();
    return report();
}
