/*
 * Tests of fixshare's C API: results against a plaintext reference, and the error paths
 * (NULL pointers, short buffers, bad configurations, a failing send callback, a peer that
 * disconnects in the middle of an operation, use after an error, freeing failed objects).
 * Both offline sources (the dealer, and OT between the parties), and Bristol Fashion circuits
 * by garbled circuits (AES-128 against FIPS-197 C.1, malformed circuits, bad arguments).
 * Machine learning: logistic and linear regression and a multilayer perceptron by SGD on shares
 * against plaintext SGD in this file (with progress callbacks), and oblivious inference of a
 * small dense network and of a network with convolutions, ReLU, square, mean and max pooling
 * against a plaintext forward pass. Shares of one ring width used with a party of another.
 * FSS sign tests with fxs_party_config.sign_bits = 32 (inputs promised to lie within 2^31)
 * exactly against plaintext, from fewer dealer bytes than on the whole ring; widths refused.
 *
 * Parties, the dealer and the data owner run as threads joined by UNIX socket pairs; AES-128
 * also runs between two processes over TCP on 127.0.0.1 with the OT-based offline phase.
 * Usage: test_ffi [CIRCUITS_DIR]   (default core/circuits, relative to the repository root)
 * Prints "N passed, M failed" and exits non-zero if anything failed.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixshare.h"
#include "harness.h"
#include "socket_transport.h"

static void seed_for(uint8_t seed[32], uint8_t tag) {
    for (int i = 0; i < 32; i++) seed[i] = (uint8_t)(tag * 31 + i);
}

/* ----- a transport with injected faults ----- */

enum fault_mode { FAULT_NONE, FAULT_SEND_FAILS, FAULT_DISCONNECT };

typedef struct fault {
    int fd;
    enum fault_mode mode;
    long budget; /* FAULT_DISCONNECT: bytes still sent before the connection is cut */
} fault;

static int fault_send(void *user_data, const uint8_t *buf, size_t len) {
    fault *f = (fault *)user_data;
    if (f->mode == FAULT_SEND_FAILS) return -42;
    if (f->mode == FAULT_DISCONNECT) {
        if ((long)len > f->budget) {
            int rc = socket_send(&f->fd, buf, (size_t)f->budget);
            (void)rc;
            shutdown(f->fd, SHUT_RDWR);
            f->mode = FAULT_NONE;
            return -32;
        }
        f->budget -= (long)len;
    }
    return socket_send(&f->fd, buf, len);
}

static int fault_recv(void *user_data, uint8_t *buf, size_t len) {
    fault *f = (fault *)user_data;
    return socket_recv(&f->fd, buf, len);
}

/* ----- two parties and a dealer as threads ----- */

struct session;
typedef void (*scenario_fn)(struct session *s, uint32_t role, fxs_party *party, fault *peer);

typedef struct session {
    uint32_t ring_bits, frac_bits, truncation, offline, backend;
    uint32_t sign_bits; /* fxs_party_config.sign_bits (0: the whole ring) */
    scenario_fn scenario;
    void *extra;
    int peer[2], dealer0[2], dealer1[2];
    fault faults[2];
    fxs_status dealer_status;
    fxs_stats dealer_stats[2]; /* the dealer's traffic with party 0 and party 1 */
} session;

typedef struct party_arg {
    session *s;
    uint32_t role;
} party_arg;

static void *dealer_thread(void *arg) {
    session *s = (session *)arg;
    uint8_t seed[32];
    fxs_transport t0 = socket_transport(&s->dealer0[0]);
    fxs_transport t1 = socket_transport(&s->dealer1[0]);
    seed_for(seed, 9);
    s->dealer_status = fxs_dealer_serve(seed, &t0, &t1, &s->dealer_stats[0], &s->dealer_stats[1]);
    return NULL;
}

static void *party_thread(void *arg) {
    party_arg *a = (party_arg *)arg;
    session *s = a->s;
    int *dealer_fd = a->role == 0 ? &s->dealer0[1] : &s->dealer1[1];
    fault *peer = &s->faults[a->role];
    fxs_party_config cfg;
    fxs_party *party = NULL;
    CHECK_OK(fxs_party_config_init(&cfg));
    cfg.role = a->role;
    cfg.ring_bits = s->ring_bits;
    cfg.frac_bits = s->frac_bits;
    cfg.truncation = s->truncation;
    cfg.backend = s->backend;
    cfg.sign_bits = s->sign_bits;
    seed_for(cfg.seed, (uint8_t)(1 + a->role));
    peer->fd = s->peer[a->role];
    peer->mode = FAULT_NONE;
    cfg.peer.send = fault_send;
    cfg.peer.recv = fault_recv;
    cfg.peer.flush = NULL;
    cfg.peer.user_data = peer;
    if (s->offline == FXS_OFFLINE_OT) {
        /* No third party: the OTs run over the peer connection. */
        cfg.offline = FXS_OFFLINE_OT;
    } else {
        cfg.dealer = socket_transport(dealer_fd);
    }
    CHECK_OK(fxs_party_new(&cfg, &party));
    if (party != NULL) s->scenario(s, a->role, party, peer);
    fxs_party_free(party);
    /* Closing the connections lets the peer and the dealer finish. */
    shutdown(peer->fd, SHUT_RDWR);
    if (s->offline != FXS_OFFLINE_OT) shutdown(*dealer_fd, SHUT_RDWR);
    return NULL;
}

/* Runs the session *s describes (its settings and scenario filled in, the rest zero). */
static void run_prepared(session *s) {
    pthread_t d, p[2];
    party_arg args[2];
    make_pair(s->peer);
    if (s->offline != FXS_OFFLINE_OT) {
        make_pair(s->dealer0);
        make_pair(s->dealer1);
        pthread_create(&d, NULL, dealer_thread, s);
    }
    for (uint32_t r = 0; r < 2; r++) {
        args[r].s = s;
        args[r].role = r;
        pthread_create(&p[r], NULL, party_thread, &args[r]);
    }
    pthread_join(p[0], NULL);
    pthread_join(p[1], NULL);
    close(s->peer[0]);
    close(s->peer[1]);
    if (s->offline != FXS_OFFLINE_OT) {
        pthread_join(d, NULL);
        close(s->dealer0[0]);
        close(s->dealer0[1]);
        close(s->dealer1[0]);
        close(s->dealer1[1]);
    }
}

static void run_session_with(uint32_t offline, uint32_t backend, uint32_t ring_bits,
                             uint32_t frac_bits, uint32_t truncation, scenario_fn scenario,
                             void *extra) {
    session s;
    memset(&s, 0, sizeof s);
    s.backend = backend;
    s.ring_bits = ring_bits;
    s.frac_bits = frac_bits;
    s.truncation = truncation;
    s.offline = offline;
    s.scenario = scenario;
    s.extra = extra;
    run_prepared(&s);
}

static void run_session_from(uint32_t offline, uint32_t ring_bits, uint32_t frac_bits,
                             uint32_t truncation, scenario_fn scenario, void *extra) {
    run_session_with(offline, FXS_BACKEND_AUTO, ring_bits, frac_bits, truncation, scenario, extra);
}

/* A session with the dealer as offline source. */
static void run_session(uint32_t ring_bits, uint32_t frac_bits, uint32_t truncation,
                        scenario_fn scenario, void *extra) {
    run_session_from(FXS_OFFLINE_DEALER, ring_bits, frac_bits, truncation, scenario, extra);
}

/* ----- arithmetic against the plaintext reference ----- */

#define NV 5
static const double U[NV] = {1.5, -2.25, 3.0, 0.5, -1.75}; /* party 0's vector */
static const double V[NV] = {0.25, 1.5, -2.0, 4.0, 1.25};  /* party 1's vector */
static const double A[6] = {1.0, -0.5, 2.0, 0.25, 3.0, -1.5}; /* party 0's 2x3 matrix */
static const double B[6] = {0.5, 1.0, -1.0, 2.0, 0.75, -0.25}; /* party 1's 3x2 matrix */

static double tolerance(const session *s) {
    return 8.0 * ldexp(1.0, -(int)s->frac_bits);
}

/* Reveals x and compares with want[0..n). */
static void expect(fxs_party *party, const session *s, const fxs_shares *x, const double *want,
                   size_t n, const char *what) {
    double got[16];
    size_t rows = 0, cols = 0;
    int ok = 1;
    CHECK_OK(fxs_shares_shape(x, &rows, &cols));
    CHECK(rows * cols == n);
    CHECK_OK(fxs_party_reveal(party, x, got, 16));
    for (size_t i = 0; i < n; i++) ok = ok && fabs(got[i] - want[i]) <= tolerance(s);
    count(ok, __FILE__, __LINE__, what);
}

static void arithmetic(session *s, uint32_t role, fxs_party *party, fault *peer) {
    fxs_shares *u = NULL, *v = NULL, *a = NULL, *b = NULL, *r = NULL, *t = NULL;
    double want[NV], one;
    (void)peer;
    if (role == 0) {
        CHECK_OK(fxs_party_share_input(party, U, NV, 1, &u));
        CHECK_OK(fxs_party_receive_input(party, NV, 1, &v));
        CHECK_OK(fxs_party_share_input(party, A, 2, 3, &a));
        CHECK_OK(fxs_party_receive_input(party, 3, 2, &b));
    } else {
        CHECK_OK(fxs_party_receive_input(party, NV, 1, &u));
        CHECK_OK(fxs_party_share_input(party, V, NV, 1, &v));
        CHECK_OK(fxs_party_receive_input(party, 2, 3, &a));
        CHECK_OK(fxs_party_share_input(party, B, 3, 2, &b));
    }

    for (int i = 0; i < NV; i++) want[i] = U[i] + V[i];
    CHECK_OK(fxs_party_add(party, u, v, &r));
    expect(party, s, r, want, NV, "add");
    fxs_shares_free(r);

    for (int i = 0; i < NV; i++) want[i] = U[i] - V[i];
    CHECK_OK(fxs_party_sub(party, u, v, &r));
    expect(party, s, r, want, NV, "sub");
    fxs_shares_free(r);

    for (int i = 0; i < NV; i++) want[i] = -U[i];
    CHECK_OK(fxs_party_neg(party, u, &r));
    expect(party, s, r, want, NV, "neg");
    fxs_shares_free(r);

    for (int i = 0; i < NV; i++) want[i] = U[i] + 1.25;
    CHECK_OK(fxs_party_add_public(party, u, 1.25, &r));
    expect(party, s, r, want, NV, "add_public");
    fxs_shares_free(r);

    for (int i = 0; i < NV; i++) want[i] = U[i] * -3.0;
    CHECK_OK(fxs_party_mul_public_integer(party, u, -3, &r));
    expect(party, s, r, want, NV, "mul_public_integer");
    fxs_shares_free(r);

    for (int i = 0; i < NV; i++) want[i] = V[i] * 0.375;
    CHECK_OK(fxs_party_mul_public(party, v, 0.375, &r));
    expect(party, s, r, want, NV, "mul_public");
    fxs_shares_free(r);

    for (int i = 0; i < NV; i++) want[i] = U[i] * V[i];
    CHECK_OK(fxs_party_mul(party, u, v, &r));
    expect(party, s, r, want, NV, "mul");
    fxs_shares_free(r);

    /* The ring product without truncation: twice the fractional bits, so U V 2^f as a value
     * (exact: U and V are multiples of 1/4). */
    for (int i = 0; i < NV; i++) want[i] = ldexp(U[i] * V[i], (int)s->frac_bits);
    CHECK_OK(fxs_party_mul_integer(party, u, v, &r));
    expect(party, s, r, want, NV, "mul_integer");
    fxs_shares_free(r);
    r = (fxs_shares *)&r;
    CHECK_STATUS(fxs_party_mul_integer(party, u, a, &r), FXS_STATUS_DIMENSION_MISMATCH);
    CHECK(r == NULL);

    for (int i = 0; i < NV; i++) want[i] = U[i] * U[i];
    CHECK_OK(fxs_party_square(party, u, &r));
    expect(party, s, r, want, NV, "square");
    fxs_shares_free(r);

    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            want[2 * i + j] = 0;
            for (int k = 0; k < 3; k++) want[2 * i + j] += A[3 * i + k] * B[2 * k + j];
        }
    CHECK_OK(fxs_party_matmul(party, a, b, &r));
    expect(party, s, r, want, 4, "matmul");
    fxs_shares_free(r);

    one = 0;
    for (int i = 0; i < NV; i++) one += U[i] * V[i];
    CHECK_OK(fxs_party_dot(party, u, v, &r));
    expect(party, s, r, &one, 1, "dot");
    {
        double got = 0.0;
        /* reveal_to: only party 1 learns the value; party 0 may pass NULL. */
        if (role == 1) {
            CHECK_OK(fxs_party_reveal_to(party, r, FXS_ROLE_P1, &got, 1));
            CHECK(fabs(got - one) <= tolerance(s));
        } else {
            CHECK_OK(fxs_party_reveal_to(party, r, FXS_ROLE_P1, NULL, 0));
        }
    }
    fxs_shares_free(r);

    /* truncate(4u, 2) == u */
    CHECK_OK(fxs_party_mul_public_integer(party, u, 4, &t));
    CHECK_OK(fxs_party_truncate(party, t, 2, &r));
    expect(party, s, r, U, NV, "truncate");
    fxs_shares_free(r);
    fxs_shares_free(t);

    CHECK_OK(fxs_shares_transpose(a, &r));
    {
        size_t rows = 0, cols = 0;
        CHECK_OK(fxs_shares_shape(r, &rows, &cols));
        CHECK(rows == 3 && cols == 2);
    }
    fxs_shares_free(r);

    /* A reshape keeps the elements in row-major order. */
    CHECK_OK(fxs_shares_reshape(a, 3, 2, &r));
    {
        size_t rows = 0, cols = 0;
        CHECK_OK(fxs_shares_shape(r, &rows, &cols));
        CHECK(rows == 3 && cols == 2);
    }
    expect(party, s, r, A, 6, "reshape");
    fxs_shares_free(r);
    r = (fxs_shares *)&r;
    CHECK_STATUS(fxs_shares_reshape(a, 4, 2, &r), FXS_STATUS_DIMENSION_MISMATCH);
    CHECK(r == NULL);
    CHECK_STATUS(fxs_shares_reshape(a, SIZE_MAX, 2, &r), FXS_STATUS_DIMENSION_MISMATCH);
    CHECK_STATUS(fxs_shares_reshape(NULL, 3, 2, &r), FXS_STATUS_NULL_POINTER);

    /* Argument errors found before anything is sent: the session stays usable. */
    r = (fxs_shares *)&r; /* must be reset to NULL on failure */
    CHECK_STATUS(fxs_party_mul(party, NULL, v, &r), FXS_STATUS_NULL_POINTER);
    CHECK(r == NULL);
    CHECK_MSG("fxs_party_mul");
    CHECK_STATUS(fxs_party_mul(party, u, v, NULL), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_party_add(party, u, a, &r), FXS_STATUS_DIMENSION_MISMATCH);
    CHECK_MSG("dimension mismatch");
    {
        double small[2];
        CHECK_STATUS(fxs_party_reveal(party, u, small, 2), FXS_STATUS_BUFFER_TOO_SMALL);
        CHECK_MSG("fxs_party_reveal");
        CHECK_STATUS(fxs_party_reveal(party, u, NULL, NV), FXS_STATUS_NULL_POINTER);
    }
    {
        const double bad[2] = {1.0, 1e300};
        CHECK_STATUS(fxs_party_share_input(party, bad, 2, 1, &r), FXS_STATUS_OUT_OF_RANGE);
        CHECK_STATUS(fxs_party_share_input(party, NULL, 2, 1, &r), FXS_STATUS_NULL_POINTER);
    }
    CHECK_STATUS(fxs_party_reveal_to(party, u, 7, NULL, 0), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(fxs_shares_shape(NULL, NULL, NULL), FXS_STATUS_NULL_POINTER);
    expect(party, s, u, U, NV, "still usable after argument errors");

    /* A shape error found by a protocol (both parties make it) before anything is sent: the
     * party stays usable too. */
    CHECK_STATUS(fxs_party_matmul(party, u, v, &r), FXS_STATUS_DIMENSION_MISMATCH);
    CHECK_MSG("fxs_party_matmul: matmul");
    CHECK(r == NULL);
    expect(party, s, v, V, NV, "still usable after a protocol's shape error");
    {
        fxs_stats st;
        CHECK_OK(fxs_party_stats(party, &st, NULL));
        CHECK(st.bytes_sent > 0 && st.rounds > 0);
    }

    fxs_shares_free(u);
    fxs_shares_free(v);
    fxs_shares_free(a);
    fxs_shares_free(b);
}

/* ----- the party's state: usable after argument errors, poisoned after a failure in I/O ----- */

static void party_state(session *s, uint32_t role, fxs_party *party, fault *peer) {
    fxs_shares *u = NULL, *v = NULL, *a = NULL, *r = NULL;
    fxs_stats before, after, off_before, off_after;
    double want[NV];
    fxs_status st;
    if (role == 0) {
        CHECK_OK(fxs_party_share_input(party, U, NV, 1, &u));
        CHECK_OK(fxs_party_receive_input(party, NV, 1, &v));
        CHECK_OK(fxs_party_share_input(party, A, 2, 3, &a));
    } else {
        CHECK_OK(fxs_party_receive_input(party, NV, 1, &u));
        CHECK_OK(fxs_party_share_input(party, V, NV, 1, &v));
        CHECK_OK(fxs_party_receive_input(party, 2, 3, &a));
    }

    /* Argument errors (status 100-199), found before anything is sent or received. */
    CHECK_OK(fxs_party_stats(party, &before, &off_before));
    r = (fxs_shares *)&r;
    CHECK_STATUS(fxs_party_mul(party, u, a, &r), FXS_STATUS_DIMENSION_MISMATCH);
    CHECK_MSG("fxs_party_mul: mul: dimension mismatch");
    CHECK(r == NULL);
    CHECK_STATUS(fxs_party_truncate(party, u, 200, &r), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_MSG("fxs_party_truncate: truncate");
    CHECK(r == NULL);
    CHECK_STATUS(fxs_party_matmul(party, u, a, &r), FXS_STATUS_DIMENSION_MISMATCH);
    CHECK_STATUS(fxs_party_dot(party, u, a, &r), FXS_STATUS_DIMENSION_MISMATCH);
    CHECK_STATUS(fxs_party_truncate_exact(party, u, 200, &r), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(fxs_party_less_than(party, u, a, &r), FXS_STATUS_DIMENSION_MISMATCH);
    CHECK_OK(fxs_party_stats(party, &after, &off_after));
    CHECK(after.bytes_sent == before.bytes_sent && after.bytes_received == before.bytes_received);
    CHECK(off_after.bytes_sent == off_before.bytes_sent &&
          off_after.bytes_received == off_before.bytes_received);

    /* ... leave the party usable: the next valid operations succeed and match the plaintext. */
    CHECK_OK(fxs_party_mul(party, u, v, &r));
    for (int i = 0; i < NV; i++) want[i] = U[i] * V[i];
    expect(party, s, r, want, NV, "mul after argument errors");
    fxs_shares_free(r);
    r = NULL;
    CHECK_OK(fxs_party_truncate(party, u, 2, &r));
    for (int i = 0; i < NV; i++) want[i] = U[i] / 4;
    expect(party, s, r, want, NV, "truncate after argument errors");
    fxs_shares_free(r);
    r = NULL;

    /* A failure after communicating: party 1's connection drops in the middle of a product
     * (after its first bytes went out). Both parties are poisoned: every later call fails with
     * FXS_STATUS_POISONED, local operations and argument errors included. */
    if (role == 1) {
        peer->mode = FAULT_DISCONNECT;
        peer->budget = 30;
    }
    st = fxs_party_mul(party, u, v, &r);
    CHECK(st == (role == 0 ? FXS_STATUS_CLOSED : FXS_STATUS_TRANSPORT));
    CHECK_MSG("fxs_party_mul: ");
    CHECK(r == NULL);
    CHECK_STATUS(fxs_party_mul(party, u, v, &r), FXS_STATUS_POISONED);
    CHECK_MSG("first failure");
    CHECK(r == NULL);
    CHECK_STATUS(fxs_party_add(party, u, v, &r), FXS_STATUS_POISONED);
    CHECK_STATUS(fxs_party_truncate(party, u, 200, &r), FXS_STATUS_POISONED);
    CHECK_STATUS(fxs_party_reveal(party, u, want, NV), FXS_STATUS_POISONED);
    CHECK_OK(fxs_party_stats(party, &after, NULL)); /* works on a poisoned party */
    CHECK(after.bytes_sent > before.bytes_sent);
    fxs_shares_free(u);
    fxs_shares_free(v);
    fxs_shares_free(a);
}

/* ----- a send callback that fails ----- */

static void send_fails(session *s, uint32_t role, fxs_party *party, fault *peer) {
    fxs_shares *u = NULL, *v = NULL, *r = NULL;
    (void)s;
    if (role == 0) {
        CHECK_OK(fxs_party_share_input(party, U, NV, 1, &u));
        CHECK_OK(fxs_party_receive_input(party, NV, 1, &v));
        peer->mode = FAULT_SEND_FAILS;
        CHECK_STATUS(fxs_party_mul(party, u, v, &r), FXS_STATUS_TRANSPORT);
        CHECK_MSG("fxs_party_mul: mul");
        CHECK_MSG("-42");
        /* The host gives up on the connection, so the peer is not left waiting. */
        shutdown(peer->fd, SHUT_RDWR);
    } else {
        CHECK_OK(fxs_party_receive_input(party, NV, 1, &u));
        CHECK_OK(fxs_party_share_input(party, V, NV, 1, &v));
        CHECK_STATUS(fxs_party_mul(party, u, v, &r), FXS_STATUS_CLOSED);
        CHECK_MSG("fxs_party_mul: mul");
    }
    CHECK(r == NULL);
    CHECK_STATUS(fxs_party_mul(party, u, v, &r), FXS_STATUS_POISONED);
    CHECK_STATUS(fxs_party_neg(party, u, &r), FXS_STATUS_POISONED);
    fxs_shares_free(u);
    fxs_shares_free(v);
}

/* ----- a peer that disconnects in the middle of a long operation ----- */

#define NLONG 3000

static void disconnects(session *s, uint32_t role, fxs_party *party, fault *peer) {
    static double xs[2][NLONG];
    fxs_shares *u = NULL, *v = NULL, *r = NULL;
    double out[1];
    (void)s;
    for (int i = 0; i < NLONG; i++) xs[role][i] = (double)(i % 7) - 3.0;
    if (role == 0) {
        CHECK_OK(fxs_party_share_input(party, xs[0], NLONG, 1, &u));
        CHECK_OK(fxs_party_receive_input(party, NLONG, 1, &v));
    } else {
        CHECK_OK(fxs_party_receive_input(party, NLONG, 1, &u));
        CHECK_OK(fxs_party_share_input(party, xs[1], NLONG, 1, &v));
        /* Party 1 sends part of its message, then its connection drops. */
        peer->mode = FAULT_DISCONNECT;
        peer->budget = 5000;
    }
    if (role == 0) {
        CHECK_STATUS(fxs_party_dot(party, u, v, &r), FXS_STATUS_CLOSED);
        CHECK_MSG("fxs_party_dot");
        CHECK_MSG("closed");
        if (getenv("FXS_TEST_VERBOSE")) fprintf(stderr, "dot message: %s\n", fxs_last_error_message());
    } else {
        CHECK_STATUS(fxs_party_dot(party, u, v, &r), FXS_STATUS_TRANSPORT);
        CHECK_MSG("fxs_party_dot");
    }
    CHECK(r == NULL);
    CHECK_STATUS(fxs_party_reveal(party, u, out, 1), FXS_STATUS_POISONED);
    fxs_shares_free(u);
    fxs_shares_free(v);
}

/* ----- a data owner and the two servers ----- */

#define NOWN 7
static const double OWN[NOWN] = {0.5, -1.25, 3.0, 10.5, -7.75, 0.0, 2.125};

typedef struct owner_side {
    int fds[2][2]; /* per server: [0] owner end, [1] server end */
} owner_side;

static void serve_owner(session *s, uint32_t role, fxs_party *party, fault *peer) {
    owner_side *o = (owner_side *)s->extra;
    fxs_transport t = socket_transport(&o->fds[role][1]);
    fxs_link *link = NULL;
    fxs_shares *x = NULL, *y = NULL, *z = NULL, *sq = NULL;
    (void)peer;
    CHECK_STATUS(fxs_link_new(NULL, 0, &link), FXS_STATUS_NULL_POINTER);
    CHECK_OK(fxs_link_new(&t, 0, &link));
    CHECK_STATUS(fxs_party_receive_owner_input(party, NULL, NOWN, 1, &x), FXS_STATUS_NULL_POINTER);
    CHECK_OK(fxs_party_receive_owner_input(party, link, NOWN, 1, &x));
    /* y = 2x + 1 and x^2, back to the owner */
    CHECK_OK(fxs_party_mul_public(party, x, 2.0, &y));
    CHECK_OK(fxs_party_add_public(party, y, 1.0, &z));
    CHECK_OK(fxs_party_square(party, x, &sq));
    CHECK_OK(fxs_party_send_owner_output(party, link, z));
    CHECK_OK(fxs_party_send_owner_output(party, link, sq));
    fxs_shares_free(x);
    fxs_shares_free(y);
    fxs_shares_free(z);
    fxs_shares_free(sq);
    fxs_link_free(link);
}

static void *servers_thread(void *arg) {
    run_session(64, 16, FXS_TRUNCATION_LOCAL, serve_owner, arg);
    return NULL;
}

static void data_owner(void) {
    owner_side o;
    pthread_t servers;
    fxs_data_owner owner, fresh;
    fxs_data_owner_config cfg;
    double lin[NOWN], sq[NOWN];
    char msg[24];
    size_t needed = 0;
    int ok = 1;

    make_pair(o.fds[0]);
    make_pair(o.fds[1]);
    memset(&fresh, 0, sizeof fresh);
    CHECK_STATUS(fxs_data_owner_share(&fresh, OWN, NOWN), FXS_STATUS_NOT_INITIALIZED);
    CHECK_STATUS(fxs_data_owner_config_init(NULL), FXS_STATUS_NULL_POINTER);
    CHECK_OK(fxs_data_owner_config_init(&cfg));
    CHECK_STATUS(fxs_data_owner_init(&owner, &cfg), FXS_STATUS_NULL_POINTER); /* no transports */
    cfg.server0 = socket_transport(&o.fds[0][0]);
    cfg.server1 = socket_transport(&o.fds[1][0]);
    seed_for(cfg.seed, 77);
    cfg.ring_bits = 48;
    CHECK_STATUS(fxs_data_owner_init(&owner, &cfg), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_MSG("ring_bits");
    cfg.ring_bits = 64;
    /* Fractional bits near UINT32_MAX: an argument error, not an overflow (issue 18). */
    cfg.frac_bits = UINT32_MAX;
    CHECK_STATUS(fxs_data_owner_init(&owner, &cfg), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_MSG("frac_bits must be at most ring_bits - 2");
    cfg.frac_bits = UINT32_MAX - 1;
    CHECK_STATUS(fxs_data_owner_init(&owner, &cfg), FXS_STATUS_INVALID_ARGUMENT);
    cfg.frac_bits = 16;
    CHECK_STATUS(fxs_data_owner_init(NULL, &cfg), FXS_STATUS_NULL_POINTER);
    CHECK_OK(fxs_data_owner_init(&owner, &cfg));

    pthread_create(&servers, NULL, servers_thread, &o);
    {
        const double bad[2] = {1.0, NAN};
        CHECK_STATUS(fxs_data_owner_share(&owner, bad, 2), FXS_STATUS_OUT_OF_RANGE);
        CHECK_OK(fxs_data_owner_last_error(&owner, msg, sizeof msg, &needed));
        CHECK(strlen(msg) == sizeof msg - 1 && needed > sizeof msg); /* truncated, NUL-terminated */
        CHECK(strncmp(msg, "fxs_data_owner_share", 20) == 0);
    }
    CHECK_STATUS(fxs_data_owner_share(&owner, NULL, 3), FXS_STATUS_NULL_POINTER);
    CHECK_OK(fxs_data_owner_share(&owner, OWN, NOWN)); /* still usable */
    CHECK_STATUS(fxs_data_owner_reconstruct(&owner, NULL, NOWN), FXS_STATUS_NULL_POINTER);
    CHECK_OK(fxs_data_owner_reconstruct(&owner, lin, NOWN));
    CHECK_OK(fxs_data_owner_reconstruct(&owner, sq, NOWN));
    for (int i = 0; i < NOWN; i++) {
        ok = ok && fabs(lin[i] - (2 * OWN[i] + 1)) <= 1e-3;
        ok = ok && fabs(sq[i] - OWN[i] * OWN[i]) <= 1e-3;
    }
    count(ok, __FILE__, __LINE__, "data owner: 2x + 1 and x^2 reconstructed");
    pthread_join(servers, NULL);

    /* The servers are gone: a further exchange fails and poisons the owner. */
    shutdown(o.fds[0][1], SHUT_RDWR);
    shutdown(o.fds[1][1], SHUT_RDWR);
    CHECK_STATUS(fxs_data_owner_reconstruct(&owner, lin, 1), FXS_STATUS_CLOSED);
    CHECK_MSG("reconstruct");
    CHECK_STATUS(fxs_data_owner_share(&owner, OWN, 1), FXS_STATUS_POISONED);
    fxs_data_owner_clear(&owner);
    CHECK_STATUS(fxs_data_owner_share(&owner, OWN, 1), FXS_STATUS_NOT_INITIALIZED);
    fxs_data_owner_clear(&owner); /* twice is fine */
    fxs_data_owner_clear(NULL);
    for (int i = 0; i < 2; i++) {
        close(o.fds[i][0]);
        close(o.fds[i][1]);
    }
}

/* ----- the connection drops before the OT-based offline phase of a product ----- */

static void ot_disconnects(session *s, uint32_t role, fxs_party *party, fault *peer) {
    fxs_shares *u = NULL, *v = NULL, *r = NULL;
    fxs_stats online, offline;
    (void)s;
    /* The base OTs crossed the peer connection, but count as offline traffic only. */
    CHECK_OK(fxs_party_stats(party, &online, &offline));
    CHECK(online.bytes_sent == 0 && online.bytes_received == 0 && online.rounds == 0);
    CHECK(offline.bytes_sent > 0 && offline.bytes_received > 0 && offline.rounds > 0);
    if (role == 0) {
        CHECK_OK(fxs_party_share_input(party, U, NV, 1, &u));
        CHECK_OK(fxs_party_receive_input(party, NV, 1, &v));
    } else {
        CHECK_OK(fxs_party_receive_input(party, NV, 1, &u));
        CHECK_OK(fxs_party_share_input(party, V, NV, 1, &v));
    }
    CHECK_OK(fxs_party_stats(party, &online, NULL));
    CHECK(online.bytes_sent > 0 && online.bytes_received > 0); /* the inputs */
    /* Party 1 hangs up: the triples for the product (OT extension over the same connection)
     * cannot be made. */
    if (role == 1) shutdown(peer->fd, SHUT_RDWR);
    CHECK_STATUS(fxs_party_mul(party, u, v, &r), FXS_STATUS_CLOSED);
    CHECK_MSG("fxs_party_mul");
    CHECK(r == NULL);
    CHECK_STATUS(fxs_party_mul(party, u, v, &r), FXS_STATUS_POISONED);
    CHECK_STATUS(fxs_party_add(party, u, v, &r), FXS_STATUS_POISONED);
    CHECK_OK(fxs_party_stats(party, NULL, &offline)); /* works on a poisoned party */
    fxs_shares_free(u);
    fxs_shares_free(v);
}

/* ----- Bristol Fashion circuits: AES-128 (FIPS-197 C.1) by garbled circuits ----- */

static const char KEY_HEX[] = "000102030405060708090a0b0c0d0e0f";
static const char PT_HEX[] = "00112233445566778899aabbccddeeff";
static const char CT_HEX[] = "69c4e0d86a7b0430d8cdb78070b4c55a";

/* Big-endian hex as `width` bits, least significant first: how the Bristol AES circuit reads
 * its byte strings (see core/circuits/README.md). */
static void hex_bits(const char *hex, uint8_t *bits, size_t width) {
    size_t n = strlen(hex);
    memset(bits, 0, width);
    for (size_t k = 0; k < n && 4 * k < width; k++) {
        char c = hex[n - 1 - k];
        int v = (c >= '0' && c <= '9') ? c - '0' : c - 'a' + 10;
        for (int j = 0; j < 4; j++) bits[4 * k + (size_t)j] = (uint8_t)((v >> j) & 1);
    }
}

typedef struct circuit_extra {
    fxs_circuit *aes;
    uint8_t shared[2][128]; /* each party's XOR shares of the ciphertext */
} circuit_extra;

static const uint32_t KEY_P0[2] = {FXS_ROLE_P0, FXS_ROLE_P1}; /* key from party 0 */
static const uint32_t KEY_P1[2] = {FXS_ROLE_P1, FXS_ROLE_P0}; /* key from party 1 */

static void circuits(session *s, uint32_t role, fxs_party *party, fault *peer) {
    circuit_extra *e = (circuit_extra *)s->extra;
    fxs_circuit *aes = e->aes;
    uint8_t key[128], pt[128], ct[128], out[128], bad[128];
    const uint8_t *mine;
    size_t written = 99;
    fxs_shares *u = NULL, *v = NULL, *d = NULL, *d2 = NULL;
    fxs_stats st;
    double one = 0;
    (void)peer;
    hex_bits(KEY_HEX, key, 128);
    hex_bits(PT_HEX, pt, 128);
    hex_bits(CT_HEX, ct, 128);
    mine = role == 0 ? key : pt;

    /* Arguments rejected before anything is sent: the party stays usable. */
    CHECK_STATUS(fxs_party_run_circuit(party, aes, KEY_P0, 2, mine, 127, FXS_REVEAL_BOTH, out, 128, &written),
                 FXS_STATUS_DIMENSION_MISMATCH);
    CHECK_MSG("fxs_party_run_circuit: `n_inputs`");
    CHECK(written == 0);
    CHECK_STATUS(fxs_party_run_circuit(party, aes, KEY_P0, 1, mine, 128, FXS_REVEAL_BOTH, out, 128, NULL),
                 FXS_STATUS_DIMENSION_MISMATCH);
    {
        const uint32_t owners[2] = {FXS_ROLE_P0, 7};
        CHECK_STATUS(fxs_party_run_circuit(party, aes, owners, 2, mine, 128, FXS_REVEAL_BOTH, out, 128, NULL),
                     FXS_STATUS_INVALID_ARGUMENT);
    }
    memcpy(bad, mine, 128);
    bad[77] = 2;
    CHECK_STATUS(fxs_party_run_circuit(party, aes, KEY_P0, 2, bad, 128, FXS_REVEAL_BOTH, out, 128, NULL),
                 FXS_STATUS_INVALID_ARGUMENT);
    CHECK_MSG("neither 0 nor 1");
    CHECK_STATUS(fxs_party_run_circuit(party, aes, KEY_P0, 2, mine, 128, 9, out, 128, NULL),
                 FXS_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(fxs_party_run_circuit(party, aes, KEY_P0, 2, mine, 128, FXS_REVEAL_BOTH, out, 127, NULL),
                 FXS_STATUS_BUFFER_TOO_SMALL);
    CHECK_STATUS(fxs_party_run_circuit(party, aes, KEY_P0, 2, mine, 128, FXS_REVEAL_BOTH, NULL, 128, NULL),
                 FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_party_run_circuit(party, NULL, KEY_P0, 2, mine, 128, FXS_REVEAL_BOTH, out, 128, NULL),
                 FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_party_run_circuit(party, aes, KEY_P0, 2, NULL, 128, FXS_REVEAL_BOTH, out, 128, NULL),
                 FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_party_run_circuit(party, aes, NULL, 2, mine, 128, FXS_REVEAL_BOTH, out, 128, NULL),
                 FXS_STATUS_NULL_POINTER);

    /* Arithmetic on the same peer connection before, between and after the circuits. */
    if (role == 0) {
        CHECK_OK(fxs_party_share_input(party, U, NV, 1, &u));
        CHECK_OK(fxs_party_receive_input(party, NV, 1, &v));
    } else {
        CHECK_OK(fxs_party_receive_input(party, NV, 1, &u));
        CHECK_OK(fxs_party_share_input(party, V, NV, 1, &v));
    }

    /* Party 0 holds the key, party 1 the plaintext; both learn the ciphertext. */
    memset(out, 0xee, sizeof out);
    CHECK_OK(fxs_party_run_circuit(party, aes, KEY_P0, 2, mine, 128, FXS_REVEAL_BOTH, out, 128, &written));
    CHECK(written == 128);
    CHECK(memcmp(out, ct, 128) == 0);

    for (int i = 0; i < NV; i++) one += U[i] * V[i];
    CHECK_OK(fxs_party_dot(party, u, v, &d));
    expect(party, s, d, &one, 1, "dot between circuits");

    /* The key from party 1; the outputs stay XOR-shared (main combines the two shares). */
    CHECK_OK(fxs_party_run_circuit(party, aes, KEY_P1, 2, role == 0 ? pt : key, 128, FXS_REVEAL_SHARED,
                                   e->shared[role], 128, &written));
    CHECK(written == 128);
    {
        /* ... and the shared ciphertext bits continue as arithmetic shares of 0.0 / 1.0. */
        double bitval[128];
        for (int i = 0; i < 128; i++) bitval[i] = ct[i];
        CHECK_OK(fxs_party_bits_to_shares(party, e->shared[role], 128, &d2));
        expect_within(party, d2, bitval, 128, 0.0, "bits_to_shares of the AES output");
        fxs_shares_free(d2);
        bad[0] = 3;
        CHECK_STATUS(fxs_party_bits_to_shares(party, bad, 1, &d2), FXS_STATUS_INVALID_ARGUMENT);
        CHECK_STATUS(fxs_party_bits_to_shares(party, NULL, 1, &d2), FXS_STATUS_NULL_POINTER);
    }

    /* Only party 1 learns the outputs: party 0 passes no buffer and gets nothing. */
    memset(out, 0, sizeof out);
    CHECK_OK(fxs_party_run_circuit(party, aes, KEY_P0, 2, mine, 128, FXS_REVEAL_P1,
                                   role == 1 ? out : NULL, role == 1 ? 128 : 0, &written));
    CHECK(written == (role == 1 ? 128u : 0u));
    if (role == 1) CHECK(memcmp(out, ct, 128) == 0);

    /* Only party 0. */
    memset(out, 0, sizeof out);
    CHECK_OK(fxs_party_run_circuit(party, aes, KEY_P0, 2, mine, 128, FXS_REVEAL_P0,
                                   role == 0 ? out : NULL, role == 0 ? 128 : 0, &written));
    CHECK(written == (role == 0 ? 128u : 0u));
    if (role == 0) CHECK(memcmp(out, ct, 128) == 0);

    /* Four runs of 6400 AND gates: the garbled tables (32 bytes each) went to party 1. */
    CHECK_OK(fxs_party_stats(party, &st, NULL));
    if (role == 0) CHECK(st.bytes_sent > 4u * 6400u * 32u);
    expect(party, s, u, U, NV, "shares still usable after the circuits");

    fxs_shares_free(d);
    fxs_shares_free(u);
    fxs_shares_free(v);
}

/* The peer disconnects before a circuit run: both fail, are poisoned, and can be freed. */
static void circuit_disconnects(session *s, uint32_t role, fxs_party *party, fault *peer) {
    circuit_extra *e = (circuit_extra *)s->extra;
    uint8_t bits[128], out[128];
    fxs_shares *u = NULL, *r = NULL;
    hex_bits(role == 0 ? KEY_HEX : PT_HEX, bits, 128);
    if (role == 0)
        CHECK_OK(fxs_party_share_input(party, U, NV, 1, &u));
    else
        CHECK_OK(fxs_party_receive_input(party, NV, 1, &u));
    if (role == 1) shutdown(peer->fd, SHUT_RDWR);
    CHECK_STATUS(fxs_party_run_circuit(party, e->aes, KEY_P0, 2, bits, 128, FXS_REVEAL_BOTH, out, 128, NULL),
                 FXS_STATUS_CLOSED);
    CHECK_MSG("fxs_party_run_circuit: run_circuit");
    CHECK_STATUS(fxs_party_run_circuit(party, e->aes, KEY_P0, 2, bits, 128, FXS_REVEAL_BOTH, out, 128, NULL),
                 FXS_STATUS_POISONED);
    CHECK_STATUS(fxs_party_neg(party, u, &r), FXS_STATUS_POISONED);
    CHECK_MSG("first failure");
    CHECK(r == NULL);
    fxs_shares_free(u);
}

static fxs_circuit *load_aes(const char *dir) {
    char path[512];
    size_t len = 0, widths[4];
    uint8_t *text;
    fxs_circuit *c = NULL;
    fxs_circuit_info info;
    uint8_t in[256], out[128], ct[128];
    snprintf(path, sizeof path, "%s/aes_128.txt", dir);
    text = read_file(path, &len);
    CHECK(text != NULL);
    if (text == NULL) {
        fprintf(stderr, "cannot read %s\n", path);
        return NULL;
    }
    CHECK_OK(fxs_circuit_parse(text, len, &c));
    free(text); /* the circuit keeps its own copy */
    if (c == NULL) return NULL;
    CHECK_OK(fxs_circuit_get_info(c, &info));
    CHECK(info.inputs == 2 && info.outputs == 1 && info.input_bits == 256 && info.output_bits == 128);
    CHECK(info.and_gates == 6400 && info.gates >= 6400 && info.wires > 256);
    CHECK_STATUS(fxs_circuit_input_widths(c, widths, 1), FXS_STATUS_BUFFER_TOO_SMALL);
    CHECK_OK(fxs_circuit_input_widths(c, widths, 4));
    CHECK(widths[0] == 128 && widths[1] == 128);
    CHECK_OK(fxs_circuit_output_widths(c, widths, 1));
    CHECK(widths[0] == 128);
    /* The plaintext reference: FIPS-197 C.1 in the clear. */
    hex_bits(KEY_HEX, in, 128);
    hex_bits(PT_HEX, in + 128, 128);
    hex_bits(CT_HEX, ct, 128);
    CHECK_OK(fxs_circuit_eval(c, in, 256, out, 128));
    CHECK(memcmp(out, ct, 128) == 0);
    CHECK_STATUS(fxs_circuit_eval(c, in, 255, out, 128), FXS_STATUS_DIMENSION_MISMATCH);
    CHECK_STATUS(fxs_circuit_eval(c, in, 256, out, 100), FXS_STATUS_BUFFER_TOO_SMALL);
    return c;
}

/* Malformed circuits: a status and the line number in the message, never a crash. */
static void bad_circuits(void) {
    fxs_circuit *c = NULL;
    fxs_circuit_info info;
    uint8_t in[2], out[1], small[1];
    size_t w[2];
    static const char and_gate[] = "1 3\n2 1 1\n1 1\n\n2 1 0 1 2 AND\n";
    static const struct {
        const char *text, *needle;
    } cases[] = {
        {"", "line 1"},
        {"1 3\n2 1 1\n1 1\n\n2 1 0 9 2 AND\n", "line 5"},          /* wire out of range */
        {"1 3\n2 1 1\n1 1\n\n2 1 0 1 2 NAND\n", "line 5"},         /* unknown gate */
        {"1 4\n2 1 1\n1 1\n\n2 1 0 3 2 XOR\n", "line 5"},          /* read before written */
        {"2 4\n2 1 1\n1 1\n2 1 0 1 2 AND\n", "line"},              /* fewer gates than claimed */
        {"999999999 999999999\n2 1 1\n1 1\n", "line"},             /* huge claims, no allocation */
        {"1 3\n3 1 1\n1 1\n2 1 0 1 2 AND\n", "line 2"},            /* count and widths disagree */
        {"1 3\n2 1 1\n1 1\n2 1 0 1 2 AND extra\n", "line 4"},
        {"1 3\n2 x 1\n1 1\n2 1 0 1 2 AND\n", "line 2"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        c = (fxs_circuit *)&c;
        CHECK_STATUS(fxs_circuit_parse((const uint8_t *)cases[i].text, strlen(cases[i].text), &c),
                     FXS_STATUS_BAD_CIRCUIT);
        CHECK(c == NULL);
        CHECK_MSG("fxs_circuit_parse: bristol: bad circuit");
        count(strstr(fxs_last_error_message(), cases[i].needle) != NULL, __FILE__, __LINE__,
              cases[i].text);
        if (getenv("FXS_TEST_VERBOSE")) fprintf(stderr, "circuit %zu: %s\n", i, fxs_last_error_message());
    }
    {
        const uint8_t not_text[] = {'1', ' ', '3', '\n', 0xff, 0xfe, '\n'};
        CHECK_STATUS(fxs_circuit_parse(not_text, sizeof not_text, &c), FXS_STATUS_BAD_CIRCUIT);
        CHECK_MSG("line 2");
    }
    CHECK_STATUS(fxs_circuit_parse(NULL, 5, &c), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_circuit_parse((const uint8_t *)and_gate, strlen(and_gate), NULL), FXS_STATUS_NULL_POINTER);

    /* A valid one-gate circuit: its truth table in the clear. */
    CHECK_OK(fxs_circuit_parse((const uint8_t *)and_gate, strlen(and_gate), &c));
    CHECK_OK(fxs_circuit_get_info(c, &info));
    CHECK(info.inputs == 2 && info.input_bits == 2 && info.output_bits == 1 && info.and_gates == 1);
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++) {
            in[0] = (uint8_t)a;
            in[1] = (uint8_t)b;
            CHECK_OK(fxs_circuit_eval(c, in, 2, out, 1));
            CHECK(out[0] == (a & b));
        }
    in[1] = 7;
    CHECK_STATUS(fxs_circuit_eval(c, in, 2, out, 1), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(fxs_circuit_eval(c, in, 2, NULL, 1), FXS_STATUS_INVALID_ARGUMENT);
    in[1] = 1;
    CHECK_STATUS(fxs_circuit_eval(c, in, 2, NULL, 1), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_circuit_eval(c, in, 2, small, 0), FXS_STATUS_BUFFER_TOO_SMALL);
    CHECK_STATUS(fxs_circuit_get_info(c, NULL), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_circuit_get_info(NULL, &info), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_circuit_output_widths(c, NULL, 2), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_circuit_input_widths(NULL, w, 2), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_party_run_circuit(NULL, c, NULL, 0, NULL, 0, FXS_REVEAL_BOTH, NULL, 0, NULL),
                 FXS_STATUS_NULL_POINTER);
    fxs_circuit_free(c);
    fxs_circuit_free(NULL);
}

/* ----- AES-128 between two processes over TCP, OT-based offline phase ----- */

static void aes_party(uint32_t role, int peer_fd, const fxs_circuit *aes) {
    fxs_party_config cfg;
    fxs_party *party = NULL;
    uint8_t bits[128], ct[128], out[128];
    fxs_stats peer, offline;
    size_t written = 0;
    hex_bits(role == 0 ? KEY_HEX : PT_HEX, bits, 128);
    hex_bits(CT_HEX, ct, 128);
    CHECK_OK(fxs_party_config_init(&cfg));
    cfg.role = role;
    seed_for(cfg.seed, (uint8_t)(50 + role));
    cfg.offline = FXS_OFFLINE_OT;
    cfg.peer = socket_transport(&peer_fd); /* the one connection: OTs, circuit, everything */
    CHECK_OK(fxs_party_new(&cfg, &party));
    if (party == NULL) return;
    CHECK_OK(fxs_party_run_circuit(party, aes, KEY_P0, 2, bits, 128, FXS_REVEAL_BOTH, out, 128, &written));
    CHECK(written == 128 && memcmp(out, ct, 128) == 0);
    CHECK_OK(fxs_party_stats(party, &peer, &offline));
    CHECK(peer.bytes_sent > 0 && offline.bytes_sent > 0 && offline.bytes_received > 0);
    fxs_party_free(party);
}

static void aes_between_processes(const fxs_circuit *aes) {
    unsigned short port;
    int listener = tcp_listen(&port), fd = -1, st = 0;
    uint8_t hello = 0;
    pid_t child;
    child = fork_or_die();
    if (child == 0) {
        /* Party 1: its own process; reports through its exit status. */
        int peer_fd = tcp_connect_hello(port, 'p', 0); /* 0: Nagle's algorithm stays on */
        int before = failed;
        close(listener);
        aes_party(FXS_ROLE_P1, peer_fd, aes);
        close(peer_fd);
        exit(failed == before ? 0 : 1);
    }
    fd = accept(listener, NULL, NULL);
    CHECK(fd >= 0 && socket_recv(&fd, &hello, 1) == FXS_IO_OK && hello == 'p');
    close(listener);
    if (fd >= 0) aes_party(FXS_ROLE_P0, fd, aes);
    close(fd);
    CHECK(waitpid(child, &st, 0) == child && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* ----- the non-linear layer against the plaintext reference ----- */

#define NN 8
static const double NX[NN] = {1.5, -2.25, 0.0, 0.375, -0.25, 3.0, -7.5, 0.75};  /* party 0's */
static const double NY[NN] = {0.5, -2.0, 0.0, 1.0, -0.5, 3.0, 2.0, -4.0};        /* party 1's */
/* Party 0's 2 x 4 matrix for max/argmax (a tie in row 1), and two 1 x 4 x 4 images. */
static const double M[8] = {0.5, -1.0, 2.25, 2.0, -3.0, -0.5, -2.0, -0.5};
static const double IMG[32] = {1, 2, 0, -1, 5, -3, 2, 2, 0, 0, -1, -2, 4, 1, -6, 3,
                               -1, -2, -3, -4, -5, -6, -7, -8, 9, 0, 1, 2, 3, 4, 5, 6};

static double ulp(const session *s) { return ldexp(1.0, -(int)s->frac_bits); }

static double plain_max_pool(const double *img, int c, int h, int w, int k, int st, int oy, int ox) {
    double m = -1e300;
    for (int dy = 0; dy < k; dy++)
        for (int dx = 0; dx < k; dx++) {
            double v = img[c * h * w + (oy * st + dy) * w + ox * st + dx];
            if (v > m) m = v;
        }
    return m;
}

static void nonlinear(session *s, uint32_t role, fxs_party *party, fault *peer) {
    fxs_shares *x = NULL, *y = NULL, *m = NULL, *img = NULL, *r = NULL, *r2 = NULL, *t = NULL;
    double want[32], want2[32];
    const double exact = ulp(s); /* inputs are multiples of 2^-f: results are exact */
    (void)peer;
    if (role == 0) {
        CHECK_OK(fxs_party_share_input(party, NX, NN, 1, &x));
        CHECK_OK(fxs_party_receive_input(party, NN, 1, &y));
        CHECK_OK(fxs_party_share_input(party, M, 2, 4, &m));
        CHECK_OK(fxs_party_share_input(party, IMG, 2, 16, &img));
    } else {
        CHECK_OK(fxs_party_receive_input(party, NN, 1, &x));
        CHECK_OK(fxs_party_share_input(party, NY, NN, 1, &y));
        CHECK_OK(fxs_party_receive_input(party, 2, 4, &m));
        CHECK_OK(fxs_party_receive_input(party, 2, 16, &img));
    }

    for (int i = 0; i < NN; i++) want[i] = NX[i] > 0 ? NX[i] : 0.0;
    CHECK_OK(fxs_party_relu(party, x, &r));
    expect_within(party, r, want, NN, exact / 2, "relu");
    fxs_shares_free(r);

    for (int i = 0; i < NN; i++) want2[i] = NX[i] >= 0 ? 1.0 : 0.0;
    CHECK_OK(fxs_party_relu_with_derivative(party, x, &r, &r2));
    expect_within(party, r, want, NN, exact / 2, "relu_with_derivative: relu");
    expect_within(party, r2, want2, NN, exact / 2, "relu_with_derivative: derivative");
    fxs_shares_free(r);
    fxs_shares_free(r2);

    CHECK_OK(fxs_party_drelu(party, x, &r));
    expect_within(party, r, want2, NN, exact / 2, "drelu");
    fxs_shares_free(r);

    for (int i = 0; i < NN; i++) want[i] = NX[i] < NY[i] ? 1.0 : 0.0;
    CHECK_OK(fxs_party_less_than(party, x, y, &r));
    expect_within(party, r, want, NN, exact / 2, "less_than");
    fxs_shares_free(r);

    for (int i = 0; i < NN; i++) want[i] = NX[i] < -0.5 ? 0.0 : NX[i] > 0.5 ? 1.0 : NX[i] + 0.5;
    CHECK_OK(fxs_party_sigmoid_piecewise(party, x, &r));
    expect_within(party, r, want, NN, exact / 2, "sigmoid_piecewise");
    fxs_shares_free(r);

    for (int i = 0; i < NN; i++) want[i] = 1.0 / (1.0 + exp(-NX[i]));
    CHECK_OK(fxs_party_sigmoid(party, x, &r));
    expect_within(party, r, want, NN, 0.003 + 4 * exact, "sigmoid");
    fxs_shares_free(r);

    want[0] = 2.25; /* row maxima */
    want[1] = -0.5;
    CHECK_OK(fxs_party_max(party, m, &r));
    expect_within(party, r, want, 2, exact / 2, "max");
    fxs_shares_free(r);
    want2[0] = 2.0; /* their first column index */
    want2[1] = 1.0;
    CHECK_OK(fxs_party_argmax(party, m, &r, &r2));
    expect_within(party, r, want, 2, exact / 2, "argmax: max");
    expect_within(party, r2, want2, 2, exact / 2, "argmax: index");
    fxs_shares_free(r);
    fxs_shares_free(r2);

    {
        /* A piecewise-linear function: 1/2 below -1, down to 0 at 0, up to 1 at 2, then 1. */
        const double knots[3] = {-1.0, 0.0, 2.0}, values[3] = {0.5, 0.0, 1.0};
        const double bad_knots[3] = {-1.0, 2.0, 0.0};
        for (int i = 0; i < NN; i++)
            want[i] = NX[i] <= -1 ? 0.5 : NX[i] <= 0 ? -0.5 * NX[i] : NX[i] < 2 ? 0.5 * NX[i] : 1.0;
        CHECK_OK(fxs_party_piecewise_linear(party, x, knots, values, 3, &r));
        expect_within(party, r, want, NN, 4 * exact, "piecewise_linear");
        fxs_shares_free(r);
        r = (fxs_shares *)&r;
        CHECK_STATUS(fxs_party_piecewise_linear(party, x, bad_knots, values, 3, &r), FXS_STATUS_INVALID_ARGUMENT);
        CHECK(r == NULL);
        CHECK_MSG("strictly increasing");
        CHECK_STATUS(fxs_party_piecewise_linear(party, x, knots, values, 1, &r), FXS_STATUS_INVALID_ARGUMENT);
        CHECK_STATUS(fxs_party_piecewise_linear(party, x, knots, NULL, 3, &r), FXS_STATUS_NULL_POINTER);
    }

    /* ReLU softmax per row: relu(m_i) / sum_j relu(m_j), rounded down; a row without a positive
     * value gives 1 / 4 everywhere. */
    for (int i = 0; i < 4; i++) want[i] = (M[i] > 0 ? M[i] : 0.0) / 4.75;
    for (int i = 4; i < 8; i++) want[i] = 0.25;
    CHECK_OK(fxs_party_relu_softmax(party, m, &r));
    expect_within(party, r, want, 8, 2 * exact, "relu_softmax");
    fxs_shares_free(r);

    {
        /* 2 x 2 windows, stride 2; then 3 x 3 windows, stride 1: two images, one channel. */
        fxs_pool2d pool = {1, 4, 4, 2, 2};
        size_t rows = 0, cols = 0;
        for (int k = 0; k < 2; k++)
            for (int oy = 0; oy < 2; oy++)
                for (int ox = 0; ox < 2; ox++) want[k * 4 + oy * 2 + ox] = plain_max_pool(IMG + 16 * k, 0, 4, 4, 2, 2, oy, ox);
        CHECK_OK(fxs_party_max_pool(party, img, &pool, &r));
        CHECK_OK(fxs_shares_shape(r, &rows, &cols));
        CHECK(rows == 2 && cols == 4);
        expect_within(party, r, want, 8, exact / 2, "max_pool 2x2/2");
        fxs_shares_free(r);
        pool.window = 3;
        pool.stride = 1;
        for (int k = 0; k < 2; k++)
            for (int oy = 0; oy < 2; oy++)
                for (int ox = 0; ox < 2; ox++) want[k * 4 + oy * 2 + ox] = plain_max_pool(IMG + 16 * k, 0, 4, 4, 3, 1, oy, ox);
        CHECK_OK(fxs_party_max_pool(party, img, &pool, &r));
        expect_within(party, r, want, 8, exact / 2, "max_pool 3x3/1");
        fxs_shares_free(r);

        /* Its derivative: the maxima again, and a mask with 1.0 at each window's first maximum
         * (2 x 2 windows, stride 1: overlapping windows add up). */
        {
            double mask[32];
            memset(mask, 0, sizeof mask);
            pool.window = 2;
            pool.stride = 1;
            for (int k = 0; k < 2; k++)
                for (int oy = 0; oy < 3; oy++)
                    for (int ox = 0; ox < 3; ox++) {
                        int at = -1;
                        for (int dy = 0; dy < 2; dy++)
                            for (int dx = 0; dx < 2; dx++) {
                                int p = (oy + dy) * 4 + ox + dx;
                                if (at < 0 || IMG[16 * k + p] > IMG[16 * k + at]) at = p;
                            }
                        want[k * 9 + oy * 3 + ox] = IMG[16 * k + at];
                        mask[16 * k + at] += 1.0;
                    }
            CHECK_OK(fxs_party_max_pool_with_derivative(party, img, &pool, &r, &r2));
            expect_within(party, r, want, 18, exact / 2, "max_pool_with_derivative: maxima");
            expect_within(party, r2, mask, 32, exact / 2, "max_pool_with_derivative: mask");
            fxs_shares_free(r);
            fxs_shares_free(r2);
            pool.stride = 2;
        }

        /* Argument errors found before anything is sent: the party stays usable. */
        pool.window = 5;
        r = (fxs_shares *)&r;
        CHECK_STATUS(fxs_party_max_pool(party, img, &pool, &r), FXS_STATUS_INVALID_ARGUMENT);
        CHECK(r == NULL);
        CHECK_MSG("window larger than the image");
        pool.window = 2;
        pool.height = 3;
        CHECK_STATUS(fxs_party_max_pool(party, img, &pool, &r), FXS_STATUS_DIMENSION_MISMATCH);
        pool.stride = 0;
        CHECK_STATUS(fxs_party_max_pool(party, img, &pool, &r), FXS_STATUS_INVALID_ARGUMENT);
        CHECK_STATUS(fxs_party_max_pool(party, img, NULL, &r), FXS_STATUS_NULL_POINTER);
    }

    /* SecureNN's division for 0 <= a <= b: exactly floor(a 2^f / b), with any backend. */
    {
        static const double da[4] = {0.0, 1.5, 2.0, 0.75}, db[4] = {1.0, 4.5, 2.0, 3.0};
        fxs_shares *a = NULL, *b = NULL;
        if (role == 0) {
            CHECK_OK(fxs_party_share_input(party, da, 4, 1, &a));
            CHECK_OK(fxs_party_receive_input(party, 4, 1, &b));
        } else {
            CHECK_OK(fxs_party_receive_input(party, 4, 1, &a));
            CHECK_OK(fxs_party_share_input(party, db, 4, 1, &b));
        }
        for (int i = 0; i < 4; i++) want[i] = floor(ldexp(da[i] / db[i], (int)s->frac_bits)) * exact;
        CHECK_OK(fxs_party_divide(party, a, b, &r));
        expect_within(party, r, want, 4, 0.0, "divide");
        fxs_shares_free(r);
        r = (fxs_shares *)&r;
        CHECK_STATUS(fxs_party_divide(party, a, x, &r), FXS_STATUS_DIMENSION_MISMATCH);
        CHECK(r == NULL);
        fxs_shares_free(a);
        fxs_shares_free(b);
    }

    /* Exact truncation: floor, even for negative values (-3 ulp / 2 = -2 ulp). */
    {
        const double v = -3.0 * exact, w = -2.0 * exact;
        CHECK_OK(fxs_party_mul_public_integer(party, x, 4, &t));
        CHECK_OK(fxs_party_truncate_exact(party, t, 2, &r));
        expect_within(party, r, NX, NN, 0.0, "truncate_exact(4x, 2) == x");
        fxs_shares_free(r);
        fxs_shares_free(t);
        if (role == 0)
            CHECK_OK(fxs_party_share_input(party, &v, 1, 1, &t));
        else
            CHECK_OK(fxs_party_receive_input(party, 1, 1, &t));
        CHECK_OK(fxs_party_truncate_exact(party, t, 1, &r));
        expect_within(party, r, &w, 1, 0.0, "truncate_exact rounds towards minus infinity");
        fxs_shares_free(r);
        CHECK_STATUS(fxs_party_truncate_exact(party, t, s->ring_bits, &r), FXS_STATUS_INVALID_ARGUMENT);
        fxs_shares_free(t);
    }

    r = (fxs_shares *)&r;
    r2 = (fxs_shares *)&r2;
    CHECK_STATUS(fxs_party_relu(party, NULL, &r), FXS_STATUS_NULL_POINTER);
    CHECK(r == NULL);
    CHECK_MSG("fxs_party_relu");
    CHECK_STATUS(fxs_party_relu(party, x, NULL), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_party_less_than(party, x, m, &r), FXS_STATUS_DIMENSION_MISMATCH);
    CHECK_MSG("different shapes");
    r = (fxs_shares *)&r;
    CHECK_STATUS(fxs_party_argmax(party, m, &r, NULL), FXS_STATUS_NULL_POINTER);
    CHECK(r == NULL);
    CHECK_STATUS(fxs_party_relu_with_derivative(party, x, NULL, &r2), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_party_sigmoid(NULL, x, &r), FXS_STATUS_NULL_POINTER);
    {
        /* Rows without values have no maximum. */
        fxs_shares *empty = NULL;
        if (role == 0)
            CHECK_OK(fxs_party_share_input(party, NULL, 2, 0, &empty));
        else
            CHECK_OK(fxs_party_receive_input(party, 2, 0, &empty));
        CHECK_STATUS(fxs_party_max(party, empty, &r), FXS_STATUS_INVALID_ARGUMENT);
        CHECK_MSG("no columns");
        CHECK_STATUS(fxs_party_argmax(party, empty, &r, &r2), FXS_STATUS_INVALID_ARGUMENT);
        CHECK_STATUS(fxs_party_relu_softmax(party, empty, &r), FXS_STATUS_INVALID_ARGUMENT);
        CHECK(r == NULL && r2 == NULL);
        fxs_shares_free(empty);
    }
    for (int i = 0; i < NN; i++) want[i] = NX[i] > 0 ? NX[i] : 0.0;
    CHECK_OK(fxs_party_relu(party, x, &r));
    expect_within(party, r, want, NN, exact / 2, "relu after argument errors");
    fxs_shares_free(r);

    fxs_shares_free(x);
    fxs_shares_free(y);
    fxs_shares_free(m);
    fxs_shares_free(img);
}

/* The peer disconnects before a ReLU: both fail, are poisoned, and can be freed. */
static void relu_disconnects(session *s, uint32_t role, fxs_party *party, fault *peer) {
    fxs_shares *x = NULL, *r = NULL, *r2 = NULL;
    (void)s;
    if (role == 0)
        CHECK_OK(fxs_party_share_input(party, NX, NN, 1, &x));
    else
        CHECK_OK(fxs_party_receive_input(party, NN, 1, &x));
    if (role == 1) shutdown(peer->fd, SHUT_RDWR);
    r = (fxs_shares *)&r;
    CHECK_STATUS(fxs_party_relu(party, x, &r), FXS_STATUS_CLOSED);
    CHECK_MSG("fxs_party_relu: relu");
    CHECK(r == NULL);
    CHECK_STATUS(fxs_party_argmax(party, x, &r, &r2), FXS_STATUS_POISONED);
    CHECK(r == NULL && r2 == NULL);
    CHECK_STATUS(fxs_party_sigmoid(party, x, &r), FXS_STATUS_POISONED);
    fxs_shares_free(x);
}

/* ----- sign_bits: FSS sign tests on inputs of a promised width ----- */

#define NSB 16
/* Ring elements (x * 2^16) inside [-2^31, 2^31), the range sign_bits = 32 promises: its ends,
   0, +-1 ulp, +-1.0 and values between. */
static const int64_t SB_X[NSB] = {-2147483647 - 1, 2147483647, 0, 1, -1, 65536, -65536,
                                  -2147483647, 2147483646, 123456789, -987654321, 1073741824,
                                  -1073741825, 40000, -40001, 7};
/* Pairs for less_than (party 0's x, party 1's y) whose difference x - y lies inside the range,
   its ends -2^31 and 2^31 - 1 included. */
static const int64_t SB_LX[NSB] = {-1073741824, 1073741824, 5, 6, 5, -2147483647 - 1, 2147483647,
                                   -2147483647 - 1, 0, 0, -65536, 65536, 123456789, -987654321,
                                   1, 0};
static const int64_t SB_LY[NSB] = {1073741824, -1073741823, 5, 5, 6, -2147483647 - 1, 2147483646,
                                   -2147483647, 2147483647, -2147483647, 65536, -65536, 123456790,
                                   -987654322, 0, 1};

/* The fixed-point value of ring element v with 16 fractional bits (exact in a double). */
static double from_ring(int64_t v) { return ldexp((double)v, -16); }

/* ReLU, DReLU and less_than on SB_X and SB_LX, SB_LY, exactly against plaintext. */
static void sign_bits_ops(session *s, uint32_t role, fxs_party *party, fault *peer) {
    fxs_shares *x = NULL, *lx = NULL, *ly = NULL, *r = NULL;
    double in[NSB], want[NSB];
    (void)s;
    (void)peer;
    if (role == 0) {
        for (int i = 0; i < NSB; i++) in[i] = from_ring(SB_X[i]);
        CHECK_OK(fxs_party_share_input(party, in, NSB, 1, &x));
        for (int i = 0; i < NSB; i++) in[i] = from_ring(SB_LX[i]);
        CHECK_OK(fxs_party_share_input(party, in, NSB, 1, &lx));
        CHECK_OK(fxs_party_receive_input(party, NSB, 1, &ly));
    } else {
        CHECK_OK(fxs_party_receive_input(party, NSB, 1, &x));
        CHECK_OK(fxs_party_receive_input(party, NSB, 1, &lx));
        for (int i = 0; i < NSB; i++) in[i] = from_ring(SB_LY[i]);
        CHECK_OK(fxs_party_share_input(party, in, NSB, 1, &ly));
    }

    for (int i = 0; i < NSB; i++) want[i] = SB_X[i] > 0 ? from_ring(SB_X[i]) : 0.0;
    CHECK_OK(fxs_party_relu(party, x, &r));
    expect_within(party, r, want, NSB, 0.0, "sign_bits: relu");
    fxs_shares_free(r);

    for (int i = 0; i < NSB; i++) want[i] = SB_X[i] >= 0 ? 1.0 : 0.0;
    CHECK_OK(fxs_party_drelu(party, x, &r));
    expect_within(party, r, want, NSB, 0.0, "sign_bits: drelu");
    fxs_shares_free(r);

    for (int i = 0; i < NSB; i++) want[i] = SB_LX[i] < SB_LY[i] ? 1.0 : 0.0;
    CHECK_OK(fxs_party_less_than(party, lx, ly, &r));
    expect_within(party, r, want, NSB, 0.0, "sign_bits: less_than");
    fxs_shares_free(r);

    fxs_shares_free(x);
    fxs_shares_free(lx);
    fxs_shares_free(ly);
}

/* Runs sign_bits_ops with FSS in Z_2^64 (16 fractional bits) and fxs_party_config.sign_bits =
   sign_bits; returns the bytes the dealer sent to both parties. */
static uint64_t sign_bits_session(uint32_t sign_bits) {
    session s;
    memset(&s, 0, sizeof s);
    s.ring_bits = 64;
    s.frac_bits = 16;
    s.truncation = FXS_TRUNCATION_LOCAL;
    s.offline = FXS_OFFLINE_DEALER;
    s.backend = FXS_BACKEND_FSS;
    s.sign_bits = sign_bits;
    s.scenario = sign_bits_ops;
    run_prepared(&s);
    CHECK_OK(s.dealer_status);
    return s.dealer_stats[0].bytes_sent + s.dealer_stats[1].bytes_sent;
}

/* A transport that adds every byte asked of it to *(size_t *)user_data and reports the
   connection closed. */
static int counting_send(void *user_data, const uint8_t *buf, size_t len) {
    (void)buf;
    *(size_t *)user_data += len;
    return FXS_IO_CLOSED;
}

static int counting_recv(void *user_data, uint8_t *buf, size_t len) {
    (void)buf;
    *(size_t *)user_data += len;
    return FXS_IO_CLOSED;
}

/* sign_bits outside 2..=ring_bits is refused before anything is sent or received. */
static void sign_bits_refused(void) {
    static const uint32_t bad[] = {1, 65, UINT32_MAX};
    size_t used = 0;
    fxs_transport t;
    fxs_party_config cfg;
    fxs_party *party = NULL;
    t.send = counting_send;
    t.recv = counting_recv;
    t.flush = NULL;
    t.user_data = &used;
    CHECK_OK(fxs_party_config_init(&cfg));
    CHECK(cfg.sign_bits == 0);
    cfg.peer = t;
    cfg.dealer = t;
    cfg.backend = FXS_BACKEND_FSS;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cfg.sign_bits = bad[i];
        party = (fxs_party *)&cfg;
        CHECK_STATUS(fxs_party_new(&cfg, &party), FXS_STATUS_INVALID_ARGUMENT);
        CHECK_MSG("fxs_party_new: ");
        CHECK_MSG("sign_bits must be 2 to the ring width");
        CHECK(party == NULL);
    }
    cfg.ring_bits = 32;
    cfg.frac_bits = 8;
    cfg.sign_bits = 33;
    CHECK_STATUS(fxs_party_new(&cfg, &party), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_MSG("sign_bits must be 2 to the ring width");
    /* The primaries of four servers are checked alike. */
    cfg.ring_bits = 64;
    cfg.frac_bits = 16;
    cfg.topology = FXS_TOPOLOGY_FOUR_SERVERS;
    cfg.offline = FXS_OFFLINE_OT;
    cfg.backend = FXS_BACKEND_AUTO;
    memset(&cfg.dealer, 0, sizeof cfg.dealer);
    cfg.sign_bits = 65;
    CHECK_STATUS(fxs_party_new_with_assistants(&cfg, &t, &t, &party), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_MSG("fxs_party_new_with_assistants: ");
    CHECK_MSG("sign_bits must be 2 to the ring width");
    CHECK(party == NULL);
    CHECK(used == 0);
    /* The ends of the range pass the check: the closed dealer connection is what stops them. */
    cfg.topology = FXS_TOPOLOGY_TWO_SERVERS;
    cfg.offline = FXS_OFFLINE_DEALER;
    cfg.backend = FXS_BACKEND_FSS;
    cfg.dealer = t;
    cfg.sign_bits = 2;
    CHECK_STATUS(fxs_party_new(&cfg, &party), FXS_STATUS_CLOSED);
    cfg.sign_bits = 64;
    CHECK_STATUS(fxs_party_new(&cfg, &party), FXS_STATUS_CLOSED);
    CHECK(party == NULL);
    CHECK(used > 0);
}

/* ----- machine learning: SGD training and oblivious inference ----- */

#define MLN 40 /* training rows */
#define MLD 2  /* features */
static double MLX[MLN * MLD], MLY[MLN]; /* party 0 holds the features, party 1 the labels */

/* A linearly separable dataset from a fixed LCG: label 1 where 0.8 a - 0.6 b + 0.1 > 0, no
 * point within 0.1 of the boundary. */
static void ml_dataset(void) {
    uint32_t st = 12345;
    int n = 0;
    while (n < MLN) {
        double ab[2], m;
        for (int k = 0; k < 2; k++) {
            st = st * 1664525u + 1013904223u;
            ab[k] = (double)(st >> 8) / 16777216.0 * 2.0 - 1.0;
        }
        m = 0.8 * ab[0] - 0.6 * ab[1] + 0.1;
        if (fabs(m) < 0.1) continue;
        MLX[2 * n] = ab[0];
        MLX[2 * n + 1] = ab[1];
        MLY[n] = m > 0 ? 1.0 : 0.0;
        n++;
    }
}

static double piecewise_sigmoid(double z) { return z < -0.5 ? 0.0 : z > 0.5 ? 1.0 : z + 0.5; }

/* Plaintext mini-batch SGD from zero weights, the steps fxs_party_train_glm takes: per batch
 * of consecutive rows, the scores with the current weights, then w -= lr / B * X_b^T (f - y).
 * FXS_MODEL_LOGISTIC_ACCURATE is compared with the exact logistic function. */
static void plain_sgd(const fxs_sgd_params *p, uint32_t model, double w[MLD + 1]) {
    for (int j = 0; j <= MLD; j++) w[j] = 0.0;
    for (size_t e = 0; e < p->epochs; e++)
        for (size_t start = 0; start < MLN; start += p->batch) {
            size_t end = start + p->batch < MLN ? start + p->batch : MLN;
            double grad[MLD + 1] = {0};
            for (size_t i = start; i < end; i++) {
                double z = w[MLD], f;
                for (int j = 0; j < MLD; j++) z += MLX[i * MLD + j] * w[j];
                f = model == FXS_MODEL_LINEAR            ? z
                    : model == FXS_MODEL_LOGISTIC_PIECEWISE ? piecewise_sigmoid(z)
                                                            : 1.0 / (1.0 + exp(-z));
                for (int j = 0; j < MLD; j++) grad[j] += MLX[i * MLD + j] * (f - MLY[i]);
                grad[MLD] += f - MLY[i];
            }
            for (int j = 0; j <= MLD; j++) w[j] -= p->learning_rate / (double)(end - start) * grad[j];
        }
}

/* Training rows on the right side of the hyperplane w. */
static int ml_correct(const double w[MLD + 1]) {
    int right = 0;
    for (int i = 0; i < MLN; i++) {
        double z = w[MLD];
        for (int j = 0; j < MLD; j++) z += MLX[i * MLD + j] * w[j];
        right += (z >= 0) == (MLY[i] > 0.5);
    }
    return right;
}

/* A progress callback: counts the epochs reported, checks they come in order with the run's
 * length, and that the online traffic grows. */
typedef struct progress {
    size_t calls, last, epochs;
    uint64_t online_sent;
    int ok;
} progress;

static void on_epoch(void *user_data, const fxs_progress *p) {
    progress *g = (progress *)user_data;
    g->calls++;
    g->ok = g->ok && p != NULL && p->epoch == g->calls && p->epochs == g->epochs &&
            p->online.bytes_sent > g->online_sent && p->online.rounds > 0;
    if (p != NULL) {
        g->last = p->epoch;
        g->online_sent = p->online.bytes_sent;
    }
}

static progress progress_for(size_t epochs) {
    progress g;
    memset(&g, 0, sizeof g);
    g.epochs = epochs;
    g.ok = 1;
    return g;
}

/* Trains on shares, reveals the weights and compares them with the plaintext SGD. */
static void train_and_compare(fxs_party *party, const fxs_shares *x, const fxs_shares *y,
                              const fxs_sgd_params *p, uint32_t model, double tol, const char *what) {
    fxs_shares *w = NULL;
    double got[MLD + 1] = {0}, want[MLD + 1];
    size_t rows = 0, cols = 0;
    progress prog = progress_for(p->epochs);
    int ok = 1;
    plain_sgd(p, model, want);
    CHECK_OK(fxs_party_train_glm(party, x, y, p, model, on_epoch, &prog, &w));
    CHECK(prog.calls == p->epochs && prog.last == p->epochs && prog.ok); /* once per epoch */
    CHECK_OK(fxs_shares_shape(w, &rows, &cols));
    CHECK(rows == MLD + 1 && cols == 1);
    CHECK_OK(fxs_party_reveal(party, w, got, MLD + 1));
    for (int j = 0; j <= MLD; j++) ok = ok && fabs(got[j] - want[j]) <= tol;
    count(ok, __FILE__, __LINE__, what);
    if (!ok)
        for (int j = 0; j <= MLD; j++) fprintf(stderr, "  %s w[%d]: got %.6f, want %.6f\n", what, j, got[j], want[j]);
    /* The reference is not trivial, and the secure model separates the training data too. */
    CHECK(fabs(want[0]) > 0.1);
    if (model != FXS_MODEL_LINEAR) CHECK(ml_correct(got) == MLN && ml_correct(want) == MLN);
    fxs_shares_free(w);
}

static void ml_train(session *s, uint32_t role, fxs_party *party, fault *peer) {
    fxs_shares *x = NULL, *y = NULL, *w = NULL;
    fxs_sgd_params p = {4, 10, 1.0}, bad;
    const double tol = 64 * ulp(s); /* 0.001 with 16 fractional bits */
    (void)peer;
    if (role == 0) {
        CHECK_OK(fxs_party_share_input(party, MLX, MLN, MLD, &x));
        CHECK_OK(fxs_party_receive_input(party, MLN, 1, &y));
    } else {
        CHECK_OK(fxs_party_receive_input(party, MLN, MLD, &x));
        CHECK_OK(fxs_party_share_input(party, MLY, MLN, 1, &y));
    }

    /* Argument errors, found before anything is sent: the party stays usable. */
    w = (fxs_shares *)&w;
    CHECK_STATUS(fxs_party_train_glm(party, x, y, NULL, FXS_MODEL_LOGISTIC_PIECEWISE, NULL, NULL, &w), FXS_STATUS_NULL_POINTER);
    CHECK(w == NULL);
    CHECK_MSG("fxs_party_train_glm: `params` is NULL");
    bad = p;
    bad.batch = 0;
    CHECK_STATUS(fxs_party_train_glm(party, x, y, &bad, FXS_MODEL_LOGISTIC_PIECEWISE, NULL, NULL, &w), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_MSG("batch");
    bad = p;
    bad.learning_rate = -0.5;
    CHECK_STATUS(fxs_party_train_glm(party, x, y, &bad, FXS_MODEL_LINEAR, NULL, NULL, &w), FXS_STATUS_INVALID_ARGUMENT);
    bad.learning_rate = NAN;
    CHECK_STATUS(fxs_party_train_glm(party, x, y, &bad, FXS_MODEL_LINEAR, NULL, NULL, &w), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(fxs_party_train_glm(party, x, y, &p, 7, NULL, NULL, &w), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_MSG("model must be");
    CHECK_STATUS(fxs_party_train_glm(party, x, x, &p, FXS_MODEL_LINEAR, NULL, NULL, &w), FXS_STATUS_DIMENSION_MISMATCH);
    CHECK_MSG("`y` must have one column");
    {
        fxs_shares *yt = NULL, *short_y = NULL;
        CHECK_OK(fxs_shares_transpose(y, &yt));
        CHECK_STATUS(fxs_party_train_glm(party, x, yt, &p, FXS_MODEL_LINEAR, NULL, NULL, &w), FXS_STATUS_DIMENSION_MISMATCH);
        fxs_shares_free(yt);
        /* Fewer labels than rows. */
        if (role == 1)
            CHECK_OK(fxs_party_share_input(party, MLY, MLN - 1, 1, &short_y));
        else
            CHECK_OK(fxs_party_receive_input(party, MLN - 1, 1, &short_y));
        CHECK_STATUS(fxs_party_train_glm(party, x, short_y, &p, FXS_MODEL_LOGISTIC_PIECEWISE, NULL, NULL, &w), FXS_STATUS_DIMENSION_MISMATCH);
        CHECK(w == NULL);
        fxs_shares_free(short_y);
    }
    CHECK_STATUS(fxs_party_train_glm(party, NULL, y, &p, FXS_MODEL_LINEAR, NULL, NULL, &w), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_party_train_glm(party, x, NULL, &p, FXS_MODEL_LINEAR, NULL, NULL, &w), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_party_train_glm(party, x, y, &p, FXS_MODEL_LINEAR, NULL, NULL, NULL), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_party_train_glm(NULL, x, y, &p, FXS_MODEL_LINEAR, NULL, NULL, &w), FXS_STATUS_NULL_POINTER);

    /* Logistic regression (SecureML's sigmoid, then the accurate one) and linear regression. */
    train_and_compare(party, x, y, &p, FXS_MODEL_LOGISTIC_PIECEWISE, tol, "train_glm logistic (piecewise) == plaintext SGD");
    train_and_compare(party, x, y, &p, FXS_MODEL_LOGISTIC_ACCURATE, 0.03, "train_glm logistic (accurate) ~ SGD with 1/(1+e^-z)");
    p.epochs = 2;
    p.batch = 16; /* 16, 16, then a short batch of 8 */
    p.learning_rate = 0.25;
    train_and_compare(party, x, y, &p, FXS_MODEL_LINEAR, tol, "train_glm linear == plaintext SGD");
    p.epochs = 0; /* no steps: the zero weights */
    CHECK_OK(fxs_party_train_glm(party, x, y, &p, FXS_MODEL_LINEAR, NULL, NULL, &w));
    {
        const double zero[MLD + 1] = {0};
        expect_within(party, w, zero, MLD + 1, 0.0, "train_glm with 0 epochs: zero weights");
    }
    fxs_shares_free(w);
    fxs_shares_free(x);
    fxs_shares_free(y);
}

/* A 3-4-3 network with ReLU after the hidden layer (the model owner's), and the client's rows. */
#define NET_ROWS 6
static const size_t NET_SIZES[3] = {3, 4, 3};
static const double NET_W[4 * 4 + 5 * 3] = {
    /* W0: 4 x 4, the last row the bias */
    1.0, -0.5, 0.25, -1.0,
    -0.75, 1.0, 0.5, 0.25,
    0.5, 0.25, -1.0, 0.75,
    0.125, -0.25, 0.5, 0.0,
    /* W1: 5 x 3 */
    1.0, -0.5, 0.25,
    -0.5, 1.25, -0.25,
    0.25, -0.75, 1.0,
    -0.5, 0.5, 0.75,
    0.0, 0.125, -0.25};
static const double NET_X[NET_ROWS * 3] = {1.0, 0.5, -0.5, -1.0, 1.5, 0.25, 0.25, -0.5, -1.5,
                                           2.0, -1.0, 0.0, -0.5, -0.5, 1.0, 0.75, 1.25, 1.0};

/* The plaintext network: outputs of row r in out[0..3). */
static void plain_net(int r, double out[3]) {
    const double *x = NET_X + 3 * r, *w1 = NET_W + 16;
    double h[4];
    for (int j = 0; j < 4; j++) {
        h[j] = NET_W[12 + j];
        for (int k = 0; k < 3; k++) h[j] += x[k] * NET_W[k * 4 + j];
        if (h[j] < 0) h[j] = 0;
    }
    for (int j = 0; j < 3; j++) {
        out[j] = w1[12 + j];
        for (int k = 0; k < 4; k++) out[j] += h[k] * w1[k * 3 + j];
    }
}

static void ml_classify(session *s, uint32_t role, fxs_party *party, fault *peer) {
    const uint32_t owner = *(const uint32_t *)s->extra;
    const size_t nw = sizeof NET_W / sizeof NET_W[0];
    size_t classes[NET_ROWS + 1], want[NET_ROWS];
    int seen[3] = {0, 0, 0}, ok = 1;
    (void)peer;
    for (int r = 0; r < NET_ROWS; r++) {
        double out[3], second = -1e300;
        size_t best = 0;
        plain_net(r, out);
        for (size_t j = 1; j < 3; j++)
            if (out[j] > out[best]) best = j;
        for (size_t j = 0; j < 3; j++)
            if (j != best && out[j] > second) second = out[j];
        CHECK(out[best] - second > 0.1); /* no near ties: fixed-point noise cannot flip them */
        want[r] = best;
        seen[best] = 1;
    }
    CHECK(seen[0] + seen[1] + seen[2] >= 2);

    /* Argument errors on both sides, found before anything is sent. */
    {
        const double *wts = role == owner ? NET_W : NULL, *in = role == owner ? NULL : NET_X;
        size_t *cls = role == owner ? NULL : classes;
        const size_t zero_width[3] = {3, 0, 3};
        CHECK_STATUS(fxs_party_classify_dense(party, owner, NULL, 3, wts, nw, in, NET_ROWS, cls, NET_ROWS), FXS_STATUS_NULL_POINTER);
        CHECK_MSG("fxs_party_classify_dense: `sizes` is NULL");
        CHECK_STATUS(fxs_party_classify_dense(party, owner, NET_SIZES, 1, wts, nw, in, NET_ROWS, cls, NET_ROWS), FXS_STATUS_INVALID_ARGUMENT);
        CHECK_STATUS(fxs_party_classify_dense(party, owner, zero_width, 3, wts, nw, in, NET_ROWS, cls, NET_ROWS), FXS_STATUS_INVALID_ARGUMENT);
        CHECK_STATUS(fxs_party_classify_dense(party, owner, NET_SIZES, 3, wts, nw, in, 0, cls, NET_ROWS), FXS_STATUS_INVALID_ARGUMENT);
        /* Rows whose matrices overflow, or exceed 2^28 elements: a size error (issue 18). */
        CHECK_STATUS(fxs_party_classify_dense(party, owner, NET_SIZES, 3, wts, nw, in, SIZE_MAX, cls, NET_ROWS), FXS_STATUS_CAPACITY);
        CHECK_MSG("overflow");
        CHECK_STATUS(fxs_party_classify_dense(party, owner, NET_SIZES, 3, wts, nw, in, (size_t)1 << 28, cls, NET_ROWS), FXS_STATUS_CAPACITY);
        CHECK_MSG("exceed the maximum of 268435456 per operation");
        CHECK_STATUS(fxs_party_classify_dense(party, 2, NET_SIZES, 3, wts, nw, in, NET_ROWS, cls, NET_ROWS), FXS_STATUS_INVALID_ARGUMENT);
        CHECK_STATUS(fxs_party_classify_dense(NULL, owner, NET_SIZES, 3, wts, nw, in, NET_ROWS, cls, NET_ROWS), FXS_STATUS_NULL_POINTER);
    }
    if (role == owner) {
        double big[sizeof NET_W / sizeof NET_W[0]];
        CHECK_STATUS(fxs_party_classify_dense(party, owner, NET_SIZES, 3, NET_W, nw - 1, NULL, NET_ROWS, NULL, 0), FXS_STATUS_DIMENSION_MISMATCH);
        CHECK_MSG("weights_len");
        CHECK_STATUS(fxs_party_classify_dense(party, owner, NET_SIZES, 3, NULL, nw, NULL, NET_ROWS, NULL, 0), FXS_STATUS_NULL_POINTER);
        CHECK_STATUS(fxs_party_classify_dense(party, owner, NET_SIZES, 3, NET_W, nw, NET_X, NET_ROWS, NULL, 0), FXS_STATUS_INVALID_ARGUMENT);
        CHECK_MSG("model owner passes the weights only");
        memcpy(big, NET_W, sizeof big);
        big[nw - 1] = 1e300; /* a bias of the last layer: would fail after the first layer was sent */
        CHECK_STATUS(fxs_party_classify_dense(party, owner, NET_SIZES, 3, big, nw, NULL, NET_ROWS, NULL, 0), FXS_STATUS_OUT_OF_RANGE);
        CHECK_OK(fxs_party_classify_dense(party, owner, NET_SIZES, 3, NET_W, nw, NULL, NET_ROWS, NULL, 0));
    } else {
        double big[NET_ROWS * 3];
        CHECK_STATUS(fxs_party_classify_dense(party, owner, NET_SIZES, 3, NULL, 0, NET_X, NET_ROWS, classes, NET_ROWS - 1), FXS_STATUS_BUFFER_TOO_SMALL);
        CHECK_MSG("classes_len");
        CHECK_STATUS(fxs_party_classify_dense(party, owner, NET_SIZES, 3, NULL, 0, NET_X, NET_ROWS, NULL, NET_ROWS), FXS_STATUS_NULL_POINTER);
        CHECK_STATUS(fxs_party_classify_dense(party, owner, NET_SIZES, 3, NULL, 0, NULL, NET_ROWS, classes, NET_ROWS), FXS_STATUS_NULL_POINTER);
        CHECK_STATUS(fxs_party_classify_dense(party, owner, NET_SIZES, 3, NET_W, nw, NET_X, NET_ROWS, classes, NET_ROWS), FXS_STATUS_INVALID_ARGUMENT);
        CHECK_MSG("client passes the input only");
        memcpy(big, NET_X, sizeof big);
        big[NET_ROWS * 3 - 1] = -1e300;
        CHECK_STATUS(fxs_party_classify_dense(party, owner, NET_SIZES, 3, NULL, 0, big, NET_ROWS, classes, NET_ROWS), FXS_STATUS_OUT_OF_RANGE);
        for (int r = 0; r <= NET_ROWS; r++) classes[r] = 99;
        CHECK_OK(fxs_party_classify_dense(party, owner, NET_SIZES, 3, NULL, 0, NET_X, NET_ROWS, classes, NET_ROWS + 1));
        for (int r = 0; r < NET_ROWS; r++) ok = ok && classes[r] == want[r];
        count(ok, __FILE__, __LINE__, "classify_dense == plaintext argmax");
        if (!ok)
            for (int r = 0; r < NET_ROWS; r++) fprintf(stderr, "  row %d: got class %zu, want %zu\n", r, classes[r], want[r]);
        CHECK(classes[NET_ROWS] == 99); /* only `rows` classes are written */
    }
}

/* ----- a multilayer perceptron trained on shares against a plaintext MLP in C ----- */

#define MLH 2                                  /* hidden width */
#define MLK 2                                  /* classes */
#define MLP_W ((MLD + 1) * MLH + (MLH + 1) * MLK) /* weights of W0 and W1 */
static const size_t MLP_SIZES[3] = {MLD, MLH, MLK};
static double MLYH[MLN * MLK]; /* one-hot labels (party 1's) */

static void mlp_dataset(void) {
    for (int i = 0; i < MLN; i++)
        for (int k = 0; k < MLK; k++) MLYH[i * MLK + k] = (int)MLY[i] == k ? 1.0 : 0.0;
}

/* SecureML's softmax replacement in place, as the garbled circuit computes it (up to its
 * rounding down): relu(v_i) / sum_j relu(v_j), or 1 / K when no value is positive. */
static void plain_relu_softmax(double *v, int k) {
    double sum = 0;
    for (int j = 0; j < k; j++) sum += v[j] > 0 ? v[j] : 0.0;
    for (int j = 0; j < k; j++) v[j] = sum > 0 ? (v[j] > 0 ? v[j] : 0.0) / sum : 1.0 / k;
}

/* The plaintext MLP (MLD - MLH - MLK, ReLU after the hidden layer): layer l is
 * z = [a | 1] W_l with W_l an (inputs + 1) x outputs row-major matrix, bias last. */
static void plain_mlp_forward(const double *w, const double *x, double z0[MLH], double z1[MLK]) {
    const double *w1 = w + (MLD + 1) * MLH;
    for (int j = 0; j < MLH; j++) {
        z0[j] = w[MLD * MLH + j];
        for (int k = 0; k < MLD; k++) z0[j] += x[k] * w[k * MLH + j];
    }
    for (int j = 0; j < MLK; j++) {
        z1[j] = w1[MLH * MLK + j];
        for (int k = 0; k < MLH; k++) z1[j] += (z0[k] > 0 ? z0[k] : 0.0) * w1[k * MLK + j];
    }
}

static double smaller(double a, double b) { return a < b ? a : b; }

/* Plaintext mini-batch SGD of that MLP from the weights in `w` (updated in place), the steps
 * fxs_party_train_mlp takes: per batch of consecutive rows, the forward pass, the output
 * gradient f(z) - y (f the identity, or the ReLU softmax), then for each layer from the last,
 * the gradient for the layer below (with the weights before this step, times the ReLU
 * derivative, 1 where z >= 0) and w -= lr / B * [a | 1]^T delta. Returns the smallest distance
 * to a kink of the computation: |z| of a hidden pre-activation (the ReLU derivative) and, for
 * the ReLU softmax, of an output. */
static double plain_mlp_train(double *w, const fxs_mlp_params *p) {
    double margin = 1e300;
    double *w1 = w + (MLD + 1) * MLH;
    for (size_t e = 0; e < p->sgd.epochs; e++)
        for (size_t start = 0; start < MLN; start += p->sgd.batch) {
            size_t end = start + p->sgd.batch < MLN ? start + p->sgd.batch : MLN, b = end - start;
            double z0[MLN][MLH], z1[MLN][MLK], d0[MLN][MLH], g0[(MLD + 1) * MLH] = {0},
                                                           g1[(MLH + 1) * MLK] = {0};
            const double c = p->sgd.learning_rate / (double)b;
            for (size_t r = 0; r < b; r++) {
                plain_mlp_forward(w, MLX + (start + r) * MLD, z0[r], z1[r]);
                for (int j = 0; j < MLH; j++) margin = smaller(margin, fabs(z0[r][j]));
                if (p->loss == FXS_MLP_LOSS_RELU_SOFTMAX) {
                    for (int j = 0; j < MLK; j++) margin = smaller(margin, fabs(z1[r][j]));
                    plain_relu_softmax(z1[r], MLK);
                }
                for (int j = 0; j < MLK; j++) z1[r][j] -= MLYH[(start + r) * MLK + j]; /* delta */
                for (int q = 0; q < MLH; q++) {
                    double v = 0;
                    for (int j = 0; j < MLK; j++) v += z1[r][j] * w1[q * MLK + j];
                    d0[r][q] = z0[r][q] >= 0 ? v : 0.0;
                }
                for (int q = 0; q <= MLH; q++) {
                    double a = q < MLH ? (z0[r][q] > 0 ? z0[r][q] : 0.0) : 1.0;
                    for (int j = 0; j < MLK; j++) g1[q * MLK + j] += a * z1[r][j];
                }
                for (int q = 0; q <= MLD; q++) {
                    double a = q < MLD ? MLX[(start + r) * MLD + q] : 1.0;
                    for (int j = 0; j < MLH; j++) g0[q * MLH + j] += a * d0[r][j];
                }
            }
            for (int i = 0; i < (MLH + 1) * MLK; i++) w1[i] -= c * g1[i];
            for (int i = 0; i < (MLD + 1) * MLH; i++) w[i] -= c * g0[i];
        }
    return margin;
}

/* Training rows the MLP with weights w classifies right. */
static int mlp_correct(const double *w) {
    int right = 0;
    for (int i = 0; i < MLN; i++) {
        double z0[MLH], z1[MLK];
        plain_mlp_forward(w, MLX + i * MLD, z0, z1);
        right += (z1[1] > z1[0]) == (MLY[i] > 0.5);
    }
    return right;
}

/* Trains the MLP on shares (from `init`, or from the seed when init is NULL), reveals the
 * weights and compares them with the plaintext training from `start`. */
static void mlp_train_and_compare(fxs_party *party, const session *s, const fxs_shares *x,
                                  const fxs_shares *y, const double *init, const double *start,
                                  const fxs_mlp_params *p, const char *what) {
    fxs_shares *w[3] = {NULL, NULL, NULL};
    double want[MLP_W], got[MLP_W];
    size_t rows = 0, cols = 0;
    progress prog = progress_for(p->sgd.epochs);
    int ok = 1;
    const double tol = 64 * ulp(s); /* 0.001 with 16 fractional bits */
    memcpy(want, start, sizeof want);
    /* No kink of ReLU (or of the ReLU softmax) within reach of the fixed-point noise. */
    CHECK(plain_mlp_train(want, p) > 0.005);
    CHECK_OK(fxs_party_train_mlp(party, x, y, MLP_SIZES, 3, init, init ? MLP_W : 0, p, on_epoch,
                                 &prog, w, 3));
    CHECK(prog.calls == p->sgd.epochs && prog.last == p->sgd.epochs && prog.ok);
    CHECK(w[2] == NULL); /* two layers: only weights_out[0] and [1] are written */
    CHECK_OK(fxs_shares_shape(w[0], &rows, &cols));
    CHECK(rows == MLD + 1 && cols == MLH);
    CHECK_OK(fxs_shares_shape(w[1], &rows, &cols));
    CHECK(rows == MLH + 1 && cols == MLK);
    CHECK_OK(fxs_party_reveal(party, w[0], got, (MLD + 1) * MLH));
    CHECK_OK(fxs_party_reveal(party, w[1], got + (MLD + 1) * MLH, (MLH + 1) * MLK));
    for (int i = 0; i < MLP_W; i++) ok = ok && fabs(got[i] - want[i]) <= tol;
    count(ok, __FILE__, __LINE__, what);
    if (!ok || getenv("FXS_TEST_VERBOSE")) {
        double worst = 0;
        for (int i = 0; i < MLP_W; i++) worst = fabs(got[i] - want[i]) > worst ? fabs(got[i] - want[i]) : worst;
        fprintf(stderr, "%s: largest difference %.3g (tolerance %.3g)\n", what, worst, tol);
    }
    /* Training did something, and the secure model classifies like the plaintext one. */
    {
        double d = 0;
        for (int i = 0; i < MLP_W; i++) d += fabs(want[i] - start[i]);
        CHECK(d > 0.1);
    }
    CHECK(mlp_correct(got) == mlp_correct(want));
    CHECK(mlp_correct(want) >= MLN * 9 / 10);
    fxs_shares_free(w[0]);
    fxs_shares_free(w[1]);
}

static void ml_mlp(session *s, uint32_t role, fxs_party *party, fault *peer) {
    fxs_shares *x = NULL, *y = NULL, *w[2] = {NULL, NULL}, *yt = NULL;
    fxs_mlp_params p, bad;
    fxs_stats before, after;
    double init[MLP_W], mine[MLP_W];
    (void)peer;
    memset(&p, 0, sizeof p);
    p.sgd.epochs = 4;
    p.sgd.batch = 8;
    p.sgd.learning_rate = 0.5;
    p.loss = FXS_MLP_LOSS_SQUARED;
    p.init_seed = 285;
    if (role == 0) {
        CHECK_OK(fxs_party_share_input(party, MLX, MLN, MLD, &x));
        CHECK_OK(fxs_party_receive_input(party, MLN, MLK, &y));
    } else {
        CHECK_OK(fxs_party_receive_input(party, MLN, MLD, &x));
        CHECK_OK(fxs_party_share_input(party, MLYH, MLN, MLK, &y));
    }
    /* The public initial weights of the seed (what the party uses without init_weights). */
    CHECK_OK(fxs_mlp_init(MLP_SIZES, 3, p.init_seed, init, MLP_W));
    CHECK_STATUS(fxs_mlp_init(MLP_SIZES, 3, p.init_seed, init, MLP_W - 1), FXS_STATUS_BUFFER_TOO_SMALL);
    CHECK_STATUS(fxs_mlp_init(MLP_SIZES, 1, p.init_seed, init, MLP_W), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(fxs_mlp_init(NULL, 3, p.init_seed, init, MLP_W), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_mlp_init(MLP_SIZES, 3, p.init_seed, NULL, MLP_W), FXS_STATUS_NULL_POINTER);
    CHECK(init[MLD * MLH] == 0.0 && init[MLP_W - 1] == 0.0 && init[0] != 0.0); /* biases 0 */

    /* Argument errors, found before anything is sent: the party stays usable. */
    CHECK_OK(fxs_party_stats(party, &before, NULL));
    w[0] = (fxs_shares *)&w;
    w[1] = (fxs_shares *)&w;
    CHECK_STATUS(fxs_party_train_mlp(party, x, y, MLP_SIZES, 3, NULL, 0, &p, NULL, NULL, w, 1), FXS_STATUS_BUFFER_TOO_SMALL);
    CHECK(w[0] == NULL); /* cleared on failure */
    CHECK_MSG("fxs_party_train_mlp: `n_weights_out`");
    CHECK_STATUS(fxs_party_train_mlp(party, x, y, MLP_SIZES, 3, NULL, 0, &p, NULL, NULL, NULL, 2), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_party_train_mlp(party, x, y, MLP_SIZES, 3, NULL, 0, NULL, NULL, NULL, w, 2), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_party_train_mlp(party, NULL, y, MLP_SIZES, 3, NULL, 0, &p, NULL, NULL, w, 2), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_party_train_mlp(party, x, NULL, MLP_SIZES, 3, NULL, 0, &p, NULL, NULL, w, 2), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_party_train_mlp(party, x, y, NULL, 3, NULL, 0, &p, NULL, NULL, w, 2), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_party_train_mlp(NULL, x, y, MLP_SIZES, 3, NULL, 0, &p, NULL, NULL, w, 2), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_party_train_mlp(party, x, y, MLP_SIZES, 1, NULL, 0, &p, NULL, NULL, w, 2), FXS_STATUS_INVALID_ARGUMENT);
    {
        const size_t zero_width[3] = {MLD, 0, MLK}, wide_input[3] = {MLD + 1, MLH, MLK};
        CHECK_STATUS(fxs_party_train_mlp(party, x, y, zero_width, 3, NULL, 0, &p, NULL, NULL, w, 2), FXS_STATUS_INVALID_ARGUMENT);
        CHECK_MSG("positive");
        /* x has MLD columns, not MLD + 1. */
        CHECK_STATUS(fxs_party_train_mlp(party, x, y, wide_input, 3, NULL, 0, &p, NULL, NULL, w, 2), FXS_STATUS_DIMENSION_MISMATCH);
        CHECK_MSG("dimension mismatch");
    }
    CHECK_OK(fxs_shares_transpose(y, &yt));
    CHECK_STATUS(fxs_party_train_mlp(party, x, yt, MLP_SIZES, 3, NULL, 0, &p, NULL, NULL, w, 2), FXS_STATUS_DIMENSION_MISMATCH);
    fxs_shares_free(yt);
    CHECK_STATUS(fxs_party_train_mlp(party, x, y, MLP_SIZES, 3, init, MLP_W - 1, &p, NULL, NULL, w, 2), FXS_STATUS_DIMENSION_MISMATCH);
    CHECK_MSG("init_len");
    CHECK_STATUS(fxs_party_train_mlp(party, x, y, MLP_SIZES, 3, NULL, MLP_W, &p, NULL, NULL, w, 2), FXS_STATUS_NULL_POINTER);
    memcpy(mine, init, sizeof mine);
    mine[MLP_W - 1] = 1e300; /* the last layer's bias: out of range */
    CHECK_STATUS(fxs_party_train_mlp(party, x, y, MLP_SIZES, 3, mine, MLP_W, &p, NULL, NULL, w, 2), FXS_STATUS_OUT_OF_RANGE);
    bad = p;
    bad.loss = 9;
    CHECK_STATUS(fxs_party_train_mlp(party, x, y, MLP_SIZES, 3, NULL, 0, &bad, NULL, NULL, w, 2), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_MSG("loss must be");
    bad = p;
    bad.sgd.batch = 0;
    CHECK_STATUS(fxs_party_train_mlp(party, x, y, MLP_SIZES, 3, NULL, 0, &bad, NULL, NULL, w, 2), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_MSG("batch");
    bad.sgd.batch = 8;
    bad.sgd.learning_rate = INFINITY;
    CHECK_STATUS(fxs_party_train_mlp(party, x, y, MLP_SIZES, 3, NULL, 0, &bad, NULL, NULL, w, 2), FXS_STATUS_INVALID_ARGUMENT);
    CHECK(w[0] == NULL && w[1] == NULL);
    CHECK_OK(fxs_party_stats(party, &after, NULL));
    CHECK(after.bytes_sent == before.bytes_sent && after.bytes_received == before.bytes_received);

    /* No epochs: the initial weights, shared. */
    bad = p;
    bad.sgd.epochs = 0;
    CHECK_OK(fxs_party_train_mlp(party, x, y, MLP_SIZES, 3, NULL, 0, &bad, NULL, NULL, w, 2));
    expect_within(party, w[0], init, (MLD + 1) * MLH, ulp(s), "train_mlp with 0 epochs: the seed's weights (W0)");
    expect_within(party, w[1], init + (MLD + 1) * MLH, (MLH + 1) * MLK, ulp(s), "train_mlp with 0 epochs: the seed's weights (W1)");
    fxs_shares_free(w[0]);
    fxs_shares_free(w[1]);

    /* The squared loss from the seed's weights; the ReLU softmax from the caller's own. */
    mlp_train_and_compare(party, s, x, y, NULL, init, &p, "train_mlp (squared loss, seeded init) == plaintext MLP SGD");
    for (int i = 0; i < MLP_W; i++) mine[i] = init[i] * 0.75 + (i % 3 == 0 ? 0.125 : 0.0);
    p.loss = FXS_MLP_LOSS_RELU_SOFTMAX;
    p.sgd.epochs = 3;
    p.sgd.batch = 10;
    mlp_train_and_compare(party, s, x, y, mine, mine, &p, "train_mlp (ReLU softmax, caller's init) == plaintext MLP SGD");
    fxs_shares_free(x);
    fxs_shares_free(y);
}

/* ----- convolution and pooling inference against a plaintext forward pass in C ----- */

#define CNN_ROWS 4
#define CNN_IN 36 /* one 6 x 6 image per row */
#define CNN_LAYERS 7
#define CNN_W (10 * 2 + 9 * 2 + 3 * 3) /* conv 1 -> 2 (3 x 3), conv 2 -> 2 (2 x 2), dense 2 -> 3 */
#define CNN_MAX 128                     /* the widest row */

static double CNN_WEIGHTS[CNN_W], CNN_X[CNN_ROWS * CNN_IN];

static fxs_image image(size_t channels, size_t height, size_t width) {
    fxs_image i;
    i.channels = channels;
    i.height = height;
    i.width = width;
    return i;
}

static fxs_layer layer_of(uint32_t kind) {
    fxs_layer l;
    memset(&l, 0, sizeof l);
    l.kind = kind;
    return l;
}

/* conv 3x3 pad 1 -> ReLU -> max pool 2x2/2 -> conv 2x2 -> square -> mean pool 2x2 -> dense. */
static void cnn_layers(fxs_layer *l) {
    l[0] = layer_of(FXS_LAYER_CONV);
    l[0].input = image(1, 6, 6);
    l[0].filters = 2;
    l[0].kernel = 3;
    l[0].stride = 1;
    l[0].padding = 1; /* -> 2 x 6 x 6 */
    l[1] = layer_of(FXS_LAYER_RELU);
    l[2] = layer_of(FXS_LAYER_MAX_POOL);
    l[2].input = image(2, 6, 6);
    l[2].kernel = 2;
    l[2].stride = 2; /* -> 2 x 3 x 3 */
    l[3] = layer_of(FXS_LAYER_CONV);
    l[3].input = image(2, 3, 3);
    l[3].filters = 2;
    l[3].kernel = 2;
    l[3].stride = 1; /* -> 2 x 2 x 2 */
    l[4] = layer_of(FXS_LAYER_SQUARE);
    l[5] = layer_of(FXS_LAYER_MEAN_POOL);
    l[5].input = image(2, 2, 2);
    l[5].kernel = 2; /* -> 2 x 1 x 1 */
    l[6] = layer_of(FXS_LAYER_DENSE);
    l[6].inputs = 2;
    l[6].outputs = 3;
}

/* Deterministic weights and images: multiples of 1/32 in [-1/2, 1/2) and [-1, 1). */
static void cnn_data(void) {
    uint32_t st = 413;
    for (int i = 0; i < CNN_W; i++) {
        st = st * 1664525u + 1013904223u;
        CNN_WEIGHTS[i] = (double)((int)(st >> 27) - 16) / 32.0;
    }
    for (int i = 0; i < CNN_ROWS * CNN_IN; i++) {
        st = st * 1664525u + 1013904223u;
        CNN_X[i] = (double)((int)(st >> 26) - 32) / 32.0;
    }
}

/* The plaintext forward pass of one row through any layer list: a is the row (width values),
 * w the weights of the dense and convolution layers in order; returns the output width. */
static size_t plain_forward(const fxs_layer *layers, size_t n, const double *w, const double *row,
                            size_t width, double out[CNN_MAX]) {
    double a[CNN_MAX], z[CNN_MAX];
    memcpy(a, row, width * sizeof a[0]);
    for (size_t i = 0; i < n; i++) {
        const fxs_layer *l = &layers[i];
        const size_t C = l->input.channels, H = l->input.height, W = l->input.width;
        size_t m = 0;
        if (l->kind == FXS_LAYER_DENSE) {
            for (size_t j = 0; j < l->outputs; j++) {
                z[j] = w[l->inputs * l->outputs + j];
                for (size_t k = 0; k < l->inputs; k++) z[j] += a[k] * w[k * l->outputs + j];
            }
            w += (l->inputs + 1) * l->outputs;
            m = l->outputs;
        } else if (l->kind == FXS_LAYER_CONV) {
            const size_t K = l->kernel, S = l->stride, P = l->padding, F = l->filters;
            const size_t oh = (H + 2 * P - K) / S + 1, ow = (W + 2 * P - K) / S + 1;
            for (size_t f = 0; f < F; f++)
                for (size_t oy = 0; oy < oh; oy++)
                    for (size_t ox = 0; ox < ow; ox++) {
                        double v = w[C * K * K * F + f];
                        for (size_t c = 0; c < C; c++)
                            for (size_t ky = 0; ky < K; ky++)
                                for (size_t kx = 0; kx < K; kx++) {
                                    long y = (long)(oy * S + ky) - (long)P, x = (long)(ox * S + kx) - (long)P;
                                    if (y < 0 || x < 0 || y >= (long)H || x >= (long)W) continue;
                                    v += a[(c * H + (size_t)y) * W + (size_t)x] * w[((c * K + ky) * K + kx) * F + f];
                                }
                        z[(f * oh + oy) * ow + ox] = v;
                    }
            w += (C * K * K + 1) * F;
            m = F * oh * ow;
        } else if (l->kind == FXS_LAYER_RELU || l->kind == FXS_LAYER_SQUARE) {
            for (size_t j = 0; j < width; j++)
                z[j] = l->kind == FXS_LAYER_RELU ? (a[j] > 0 ? a[j] : 0.0) : a[j] * a[j];
            m = width;
        } else { /* pooling: mean with stride = window, or max */
            const size_t K = l->kernel, S = l->kind == FXS_LAYER_MEAN_POOL ? K : l->stride;
            const size_t oh = (H - K) / S + 1, ow = (W - K) / S + 1;
            for (size_t c = 0; c < C; c++)
                for (size_t oy = 0; oy < oh; oy++)
                    for (size_t ox = 0; ox < ow; ox++) {
                        double v = l->kind == FXS_LAYER_MEAN_POOL ? 0.0 : -1e300;
                        for (size_t dy = 0; dy < K; dy++)
                            for (size_t dx = 0; dx < K; dx++) {
                                double e = a[(c * H + oy * S + dy) * W + ox * S + dx];
                                if (l->kind == FXS_LAYER_MEAN_POOL)
                                    v += e / (double)(K * K);
                                else if (e > v)
                                    v = e;
                            }
                        z[(c * oh + oy) * ow + ox] = v;
                    }
            m = C * oh * ow;
        }
        memcpy(a, z, m * sizeof a[0]);
        width = m;
    }
    memcpy(out, a, width * sizeof a[0]);
    return width;
}

static void ml_cnn(session *s, uint32_t role, fxs_party *party, fault *peer) {
    const uint32_t owner = *(const uint32_t *)s->extra;
    const int is_owner = role == owner;
    const double *wts = is_owner ? CNN_WEIGHTS : NULL, *in = is_owner ? NULL : CNN_X;
    fxs_layer layers[CNN_LAYERS], bad_layers[CNN_LAYERS];
    fxs_network net, bad;
    fxs_shares *out = NULL;
    fxs_stats before, after;
    double want[CNN_ROWS * 3], got[CNN_ROWS * 3];
    size_t classes[CNN_ROWS], want_class[CNN_ROWS], width = 0, nw = 0, rows = 0, cols = 0;
    size_t *cls = is_owner ? NULL : classes;
    int seen[3] = {0, 0, 0}, ok = 1;
    const double tol = 64 * ulp(s); /* 0.001 with 16 fractional bits */
    (void)peer;
    cnn_layers(layers);
    net.input = CNN_IN;
    net.layers = layers;
    net.n_layers = CNN_LAYERS;

    /* The plaintext reference: outputs and classes, with no near ties. */
    for (int r = 0; r < CNN_ROWS; r++) {
        double o[CNN_MAX], second = -1e300;
        size_t best = 0;
        CHECK(plain_forward(layers, CNN_LAYERS, CNN_WEIGHTS, CNN_X + r * CNN_IN, CNN_IN, o) == 3);
        for (size_t j = 0; j < 3; j++) want[r * 3 + j] = o[j];
        for (size_t j = 1; j < 3; j++)
            if (o[j] > o[best]) best = j;
        for (size_t j = 0; j < 3; j++)
            if (j != best && o[j] > second) second = o[j];
        CHECK(o[best] - second > 0.1);
        want_class[r] = best;
        seen[best] = 1;
    }
    CHECK(seen[0] + seen[1] + seen[2] >= 2);
    CHECK_OK(fxs_network_info(&net, &width, &nw));
    CHECK(width == 3 && nw == CNN_W);

    /* Argument errors: a bad layer list, NULLs, the wrong side's data, found before anything is
     * sent; the party stays usable. */
    CHECK_OK(fxs_party_stats(party, &before, NULL));
    out = (fxs_shares *)&out;
    CHECK_STATUS(fxs_party_forward(party, owner, NULL, wts, CNN_W, in, CNN_ROWS, &out), FXS_STATUS_NULL_POINTER);
    CHECK(out == NULL);
    CHECK_MSG("fxs_party_forward: `net` is NULL");
    CHECK_STATUS(fxs_party_classify(party, owner, NULL, wts, CNN_W, in, CNN_ROWS, cls, CNN_ROWS), FXS_STATUS_NULL_POINTER);
    bad = net;
    bad.layers = NULL;
    CHECK_STATUS(fxs_party_classify(party, owner, &bad, wts, CNN_W, in, CNN_ROWS, cls, CNN_ROWS), FXS_STATUS_NULL_POINTER);
    bad = net;
    bad.input = 0;
    CHECK_STATUS(fxs_party_classify(party, owner, &bad, wts, CNN_W, in, CNN_ROWS, cls, CNN_ROWS), FXS_STATUS_INVALID_ARGUMENT);
    bad.input = 35; /* not the first convolution's image */
    CHECK_STATUS(fxs_party_classify(party, owner, &bad, wts, CNN_W, in, CNN_ROWS, cls, CNN_ROWS), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_MSG("do not chain");
    bad = net;
    bad.layers = bad_layers;
    {
        static const struct {
            int layer;
            const char *needle;
        } cases[] = {{0, "kind"}, {1, "positive"}, {2, "do not chain"}, {3, "padding"},
                     {4, "stride"}, {5, "overflow"}, {6, "positive"}, {7, "overflow"}};
        for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
            memcpy(bad_layers, layers, sizeof layers);
            switch (k) {
            case 0: bad_layers[1].kind = 99; break;                           /* unknown kind */
            case 1: bad_layers[0].filters = 0; break;                         /* zero size */
            case 2: bad_layers[3].input = image(2, 4, 4); break;              /* shapes do not chain */
            case 3: bad_layers[2].padding = 1; break;                         /* pooling with padding */
            case 4: bad_layers[5].stride = 1; break;                          /* mean pool moves by its window */
            case 5: bad_layers[0].input = image(SIZE_MAX / 2, 6, 6); break;   /* sizes overflow */
            case 6: bad_layers[6].outputs = 0; break;                         /* zero width */
            default: bad_layers[0].padding = SIZE_MAX / 2; break;             /* padding overflows */
            }
            CHECK_STATUS(fxs_party_classify(party, owner, &bad, wts, CNN_W, in, CNN_ROWS, cls, CNN_ROWS), FXS_STATUS_INVALID_ARGUMENT);
            count(strstr(fxs_last_error_message(), cases[k].needle) != NULL, __FILE__, __LINE__, cases[k].needle);
            CHECK_STATUS(fxs_network_info(&bad, &width, &nw), FXS_STATUS_INVALID_ARGUMENT);
        }
    }
    CHECK_STATUS(fxs_network_info(NULL, &width, &nw), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_party_classify(party, 7, &net, wts, CNN_W, in, CNN_ROWS, cls, CNN_ROWS), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(fxs_party_classify(party, owner, &net, wts, CNN_W, in, 0, cls, CNN_ROWS), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(fxs_party_classify(party, owner, &net, wts, CNN_W, in, SIZE_MAX / 4, cls, CNN_ROWS), FXS_STATUS_CAPACITY);
    CHECK_STATUS(fxs_party_forward(party, owner, &net, wts, CNN_W, in, CNN_ROWS, NULL), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_party_classify(NULL, owner, &net, wts, CNN_W, in, CNN_ROWS, cls, CNN_ROWS), FXS_STATUS_NULL_POINTER);
    if (is_owner) {
        double big[CNN_W];
        CHECK_STATUS(fxs_party_classify(party, owner, &net, CNN_WEIGHTS, CNN_W + 1, NULL, CNN_ROWS, NULL, 0), FXS_STATUS_DIMENSION_MISMATCH);
        CHECK_MSG("weights_len");
        CHECK_STATUS(fxs_party_forward(party, owner, &net, CNN_WEIGHTS, CNN_W, CNN_X, CNN_ROWS, &out), FXS_STATUS_INVALID_ARGUMENT);
        CHECK_MSG("model owner passes the weights only");
        CHECK_STATUS(fxs_party_forward(party, owner, &net, NULL, CNN_W, NULL, CNN_ROWS, &out), FXS_STATUS_NULL_POINTER);
        memcpy(big, CNN_WEIGHTS, sizeof big);
        big[CNN_W - 1] = 1e300; /* the dense layer's bias: would fail after the convolutions were sent */
        CHECK_STATUS(fxs_party_forward(party, owner, &net, big, CNN_W, NULL, CNN_ROWS, &out), FXS_STATUS_OUT_OF_RANGE);
    } else {
        double big[CNN_ROWS * CNN_IN];
        CHECK_STATUS(fxs_party_classify(party, owner, &net, NULL, 0, CNN_X, CNN_ROWS, NULL, CNN_ROWS), FXS_STATUS_NULL_POINTER);
        CHECK_MSG("classes_out");
        CHECK_STATUS(fxs_party_classify(party, owner, &net, NULL, 0, CNN_X, CNN_ROWS, classes, CNN_ROWS - 1), FXS_STATUS_BUFFER_TOO_SMALL);
        CHECK_STATUS(fxs_party_forward(party, owner, &net, CNN_WEIGHTS, CNN_W, CNN_X, CNN_ROWS, &out), FXS_STATUS_INVALID_ARGUMENT);
        CHECK_MSG("client passes the input only");
        memcpy(big, CNN_X, sizeof big);
        big[CNN_ROWS * CNN_IN - 1] = NAN;
        CHECK_STATUS(fxs_party_forward(party, owner, &net, NULL, 0, big, CNN_ROWS, &out), FXS_STATUS_OUT_OF_RANGE);
    }
    CHECK(out == NULL);
    CHECK_OK(fxs_party_stats(party, &after, NULL));
    CHECK(after.bytes_sent == before.bytes_sent && after.bytes_received == before.bytes_received);

    /* The forward pass on shares, opened to both, against the plaintext outputs. */
    CHECK_OK(fxs_party_forward(party, owner, &net, wts, CNN_W, in, CNN_ROWS, &out));
    CHECK_OK(fxs_shares_shape(out, &rows, &cols));
    CHECK(rows == CNN_ROWS && cols == 3);
    CHECK_OK(fxs_party_reveal(party, out, got, CNN_ROWS * 3));
    for (int i = 0; i < CNN_ROWS * 3; i++) ok = ok && fabs(got[i] - want[i]) <= tol;
    count(ok, __FILE__, __LINE__, "forward (conv, ReLU, max pool, conv, square, mean pool, dense) == plaintext");
    if (!ok || getenv("FXS_TEST_VERBOSE")) {
        double worst = 0;
        for (int i = 0; i < CNN_ROWS * 3; i++) worst = fabs(got[i] - want[i]) > worst ? fabs(got[i] - want[i]) : worst;
        fprintf(stderr, "forward: largest difference %.3g (tolerance %.3g)\n", worst, tol);
    }
    fxs_shares_free(out);

    /* Classification: only the client learns the classes. */
    for (int r = 0; r < CNN_ROWS; r++) classes[r] = 99;
    CHECK_OK(fxs_party_classify(party, owner, &net, wts, CNN_W, in, CNN_ROWS, cls, is_owner ? 0 : CNN_ROWS));
    if (!is_owner) {
        ok = 1;
        for (int r = 0; r < CNN_ROWS; r++) ok = ok && classes[r] == want_class[r];
        count(ok, __FILE__, __LINE__, "classify (convolutions and pooling) == plaintext argmax");
    }
}

/* ----- shares of one ring width used with a party of another ----- */

typedef struct kept_shares {
    fxs_shares *x[2]; /* each party's shares from a session over Z_2^64 */
} kept_shares;

static void keep_shares(session *s, uint32_t role, fxs_party *party, fault *peer) {
    kept_shares *k = (kept_shares *)s->extra;
    (void)peer;
    if (role == 0)
        CHECK_OK(fxs_party_share_input(party, U, NV, 1, &k->x[role]));
    else
        CHECK_OK(fxs_party_receive_input(party, NV, 1, &k->x[role]));
}

static void mixed_rings(session *s, uint32_t role, fxs_party *party, fault *peer) {
    kept_shares *k = (kept_shares *)s->extra;
    fxs_shares *v = NULL, *r = NULL;
    double out[NV];
    (void)peer;
    if (role == 0)
        CHECK_OK(fxs_party_receive_input(party, NV, 1, &v));
    else
        CHECK_OK(fxs_party_share_input(party, V, NV, 1, &v));
    r = (fxs_shares *)&r;
    CHECK_STATUS(fxs_party_add(party, k->x[role], v, &r), FXS_STATUS_RING_MISMATCH);
    CHECK(r == NULL);
    CHECK_MSG("fxs_party_add: add: shares of Z_2^64 passed to a session over Z_2^32");
    CHECK_STATUS(fxs_party_mul(party, v, k->x[role], &r), FXS_STATUS_RING_MISMATCH);
    CHECK_STATUS(fxs_party_relu(party, k->x[role], &r), FXS_STATUS_RING_MISMATCH);
    CHECK_STATUS(fxs_party_reveal(party, k->x[role], out, NV), FXS_STATUS_RING_MISMATCH);
    {
        /* Local reshapes keep the ring. */
        fxs_shares *t = NULL;
        CHECK_OK(fxs_shares_reshape(k->x[role], 1, NV, &t));
        CHECK_STATUS(fxs_party_neg(party, t, &r), FXS_STATUS_RING_MISMATCH);
        fxs_shares_free(t);
    }
    expect(party, s, v, V, NV, "usable after shares of another ring");
    fxs_shares_free(v);
}

/* The peer disconnects before training: both fail, are poisoned, and can be freed. */
static void ml_disconnects(session *s, uint32_t role, fxs_party *party, fault *peer) {
    fxs_shares *x = NULL, *y = NULL, *w = NULL;
    const fxs_sgd_params p = {1, 10, 1.0};
    const uint32_t owner = FXS_ROLE_P1;
    size_t classes[NET_ROWS];
    (void)s;
    if (role == 0) {
        CHECK_OK(fxs_party_share_input(party, MLX, MLN, MLD, &x));
        CHECK_OK(fxs_party_receive_input(party, MLN, 1, &y));
    } else {
        CHECK_OK(fxs_party_receive_input(party, MLN, MLD, &x));
        CHECK_OK(fxs_party_share_input(party, MLY, MLN, 1, &y));
    }
    if (role == 1) shutdown(peer->fd, SHUT_RDWR);
    w = (fxs_shares *)&w;
    CHECK_STATUS(fxs_party_train_glm(party, x, y, &p, FXS_MODEL_LOGISTIC_PIECEWISE, NULL, NULL, &w), FXS_STATUS_CLOSED);
    CHECK_MSG("fxs_party_train_glm: matmul"); /* the first step's product, which also opens its rows of E = X - U */
    CHECK(w == NULL);
    CHECK_STATUS(fxs_party_train_glm(party, x, y, &p, FXS_MODEL_LINEAR, NULL, NULL, &w), FXS_STATUS_POISONED);
    CHECK(w == NULL);
    if (role == owner)
        CHECK_STATUS(fxs_party_classify_dense(party, owner, NET_SIZES, 3, NET_W, sizeof NET_W / sizeof NET_W[0], NULL, NET_ROWS, NULL, 0), FXS_STATUS_POISONED);
    else
        CHECK_STATUS(fxs_party_classify_dense(party, owner, NET_SIZES, 3, NULL, 0, NET_X, NET_ROWS, classes, NET_ROWS), FXS_STATUS_POISONED);
    {
        fxs_layer layers[CNN_LAYERS];
        fxs_network net;
        fxs_shares *ws[2] = {NULL, NULL};
        fxs_mlp_params mp;
        cnn_layers(layers);
        net.input = CNN_IN;
        net.layers = layers;
        net.n_layers = CNN_LAYERS;
        memset(&mp, 0, sizeof mp);
        mp.sgd = p;
        if (role == owner)
            CHECK_STATUS(fxs_party_classify(party, owner, &net, CNN_WEIGHTS, CNN_W, NULL, CNN_ROWS, NULL, 0), FXS_STATUS_POISONED);
        else
            CHECK_STATUS(fxs_party_classify(party, owner, &net, NULL, 0, CNN_X, CNN_ROWS, classes, NET_ROWS), FXS_STATUS_POISONED);
        CHECK_STATUS(fxs_party_forward(party, owner, &net, role == owner ? CNN_WEIGHTS : NULL, role == owner ? CNN_W : 0,
                                       role == owner ? NULL : CNN_X, CNN_ROWS, &w), FXS_STATUS_POISONED);
        CHECK_MSG("first failure");
        CHECK_STATUS(fxs_party_train_mlp(party, x, y, MLP_SIZES, 3, NULL, 0, &mp, NULL, NULL, ws, 2), FXS_STATUS_POISONED);
        CHECK(ws[0] == NULL && ws[1] == NULL);
    }
    fxs_shares_free(x);
    fxs_shares_free(y);
}

/* ----- sizes: refused before anything is allocated or sent (issue 18) ----- */

static void oversized(session *s, uint32_t role, fxs_party *party, fault *peer) {
    enum { N = 1 << 17 };
    fxs_shares *empty = NULL, *wide = NULL, *col = NULL, *row = NULL, *r = NULL, *u = NULL;
    fxs_stats before, after;
    double *v = (double *)calloc(N, sizeof(double)), want[NV];
    (void)peer;
    CHECK(v != NULL);
    if (v == NULL) return;
    for (int i = 0; i < N; i++) v[i] = (double)(i % 7);
    if (role == 0) {
        CHECK_OK(fxs_party_share_input(party, NULL, 1, 0, &empty));
        CHECK_OK(fxs_party_share_input(party, v, N, 1, &col));
    } else {
        CHECK_OK(fxs_party_receive_input(party, 1, 0, &empty));
        CHECK_OK(fxs_party_receive_input(party, N, 1, &col));
    }
    CHECK_OK(fxs_shares_reshape(empty, 0, (size_t)1 << 40, &wide));
    CHECK_OK(fxs_shares_transpose(col, &row));
    CHECK_OK(fxs_party_stats(party, &before, NULL));

    /* A shape whose size overflows: a clear message, not "expected N, got N". */
    r = (fxs_shares *)&r;
    CHECK_STATUS(fxs_party_receive_input(party, SIZE_MAX, 2, &r), FXS_STATUS_CAPACITY);
    CHECK_MSG("fxs_party_receive_input: receive_input: 18446744073709551615 x 2 elements overflow");
    CHECK(strstr(fxs_last_error_message(), "expected") == NULL);
    CHECK(r == NULL);
    /* Over the maximum of elements per operation (2^28 by default): refused before receiving. */
    CHECK_STATUS(fxs_party_receive_input(party, 1 << 20, 1 << 20, &r), FXS_STATUS_CAPACITY);
    CHECK_MSG("1048576 x 1048576 = 1099511627776 elements exceed the maximum of 268435456");
    /* 1 x 0 by 0 x 2^40: the result alone would be 8 TiB (this aborted the process before). */
    CHECK_STATUS(fxs_party_matmul(party, empty, wide, &r), FXS_STATUS_CAPACITY);
    CHECK_MSG("fxs_party_matmul: matmul: 1 x 1099511627776");
    /* The outer product of two 2^17 vectors: 2^34 elements. */
    CHECK_STATUS(fxs_party_matmul(party, col, row, &r), FXS_STATUS_CAPACITY);
    CHECK_MSG("131072 x 131072 = 17179869184 elements exceed");
    CHECK(r == NULL);
    CHECK_OK(fxs_party_stats(party, &after, NULL));
    CHECK(after.bytes_sent == before.bytes_sent && after.bytes_received == before.bytes_received);

    /* The party is still usable. */
    if (role == 0) {
        CHECK_OK(fxs_party_share_input(party, U, NV, 1, &u));
    } else {
        CHECK_OK(fxs_party_receive_input(party, NV, 1, &u));
    }
    CHECK_OK(fxs_party_mul(party, u, u, &r));
    for (int i = 0; i < NV; i++) want[i] = U[i] * U[i];
    expect(party, s, r, want, NV, "mul after refused sizes");
    fxs_shares_free(r);
    fxs_shares_free(u);
    fxs_shares_free(row);
    fxs_shares_free(col);
    fxs_shares_free(wide);
    fxs_shares_free(empty);
    free(v);
}

/* The peak resident memory of this process so far, in kB (Linux: ru_maxrss is in kB). */
static long peak_rss_kb(void) {
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : -1;
}

/* ----- configuration and argument errors without a session ----- */

static void no_session(void) {
    fxs_party_config cfg;
    fxs_party *party = (fxs_party *)&cfg;
    int fds[2], dealer[2];
    uint8_t seed[32] = {0};
    fxs_transport t;

    CHECK(fxs_version() != NULL && strlen(fxs_version()) > 0);
    CHECK(strcmp(fxs_status_name(FXS_STATUS_CLOSED), "FXS_STATUS_CLOSED") == 0);
    CHECK(strcmp(fxs_status_name(12345), "FXS_STATUS_UNKNOWN") == 0);
    CHECK(FXS_STATUS_OK == 0 && FXS_STATUS_NULL_POINTER == 100 && FXS_STATUS_POISONED == 200 &&
          FXS_STATUS_CLOSED == 300 && FXS_STATUS_MALFORMED == 404 && FXS_STATUS_PANIC == 900);

    CHECK_STATUS(fxs_party_config_init(NULL), FXS_STATUS_NULL_POINTER);
    CHECK_MSG("fxs_party_config_init");
    CHECK_STATUS(fxs_party_new(NULL, &party), FXS_STATUS_NULL_POINTER);
    CHECK(party == NULL);
    CHECK_OK(fxs_party_config_init(&cfg));
    CHECK_STATUS(fxs_party_new(&cfg, NULL), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_party_new(&cfg, &party), FXS_STATUS_NULL_POINTER); /* no transports */
    CHECK_MSG("peer.send");

    make_pair(fds);
    make_pair(dealer);
    cfg.peer = socket_transport(&fds[0]);
    cfg.dealer = socket_transport(&dealer[0]);
    cfg.ring_bits = 48;
    CHECK_STATUS(fxs_party_new(&cfg, &party), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_MSG("fxs_party_new: session config: invalid argument: the ring width");
    cfg.ring_bits = 32;
    cfg.frac_bits = 31;
    CHECK_STATUS(fxs_party_new(&cfg, &party), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_MSG("fractional bits must be at most the ring width minus 2");
    /* Fractional bits near UINT32_MAX: an argument error, not an overflow (issue 18). */
    cfg.frac_bits = UINT32_MAX;
    CHECK_STATUS(fxs_party_new(&cfg, &party), FXS_STATUS_INVALID_ARGUMENT);
    cfg.frac_bits = UINT32_MAX - 1;
    CHECK_STATUS(fxs_party_new(&cfg, &party), FXS_STATUS_INVALID_ARGUMENT);
    CHECK(party == NULL);
    cfg.frac_bits = 16;
    cfg.ring_bits = 64;
    cfg.role = 2;
    CHECK_STATUS(fxs_party_new(&cfg, &party), FXS_STATUS_INVALID_ARGUMENT);
    cfg.role = FXS_ROLE_P1;
    cfg.truncation = 9;
    CHECK_STATUS(fxs_party_new(&cfg, &party), FXS_STATUS_INVALID_ARGUMENT);
    cfg.truncation = FXS_TRUNCATION_PAIRS;
    cfg.backend = 4;
    CHECK_STATUS(fxs_party_new(&cfg, &party), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_MSG("backend must be");
    /* The helper's protocols need three servers (tests/c/test_three.c runs them). */
    cfg.backend = FXS_BACKEND_HELPER;
    CHECK_STATUS(fxs_party_new(&cfg, &party), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_MSG("the helper backend needs a third server (three or four servers)");
    cfg.backend = FXS_BACKEND_AUTO;
    /* The offline source and its transport must agree. */
    cfg.offline = 5;
    CHECK_STATUS(fxs_party_new(&cfg, &party), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_MSG("offline must be");
    cfg.offline = FXS_OFFLINE_OT;
    CHECK_STATUS(fxs_party_new(&cfg, &party), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_MSG("dealer is set");
    memset(&cfg.dealer, 0, sizeof cfg.dealer);
    /* FSS keys come from the dealer only. */
    cfg.backend = FXS_BACKEND_FSS;
    CHECK_STATUS(fxs_party_new(&cfg, &party), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_MSG("the FSS backend needs the dealer");
    cfg.backend = FXS_BACKEND_AUTO;
    memset(&cfg.peer, 0, sizeof cfg.peer);
    CHECK_STATUS(fxs_party_new(&cfg, &party), FXS_STATUS_NULL_POINTER); /* OT needs the peer */
    CHECK_MSG("peer.send or peer.recv is NULL");
    {
        /* A peer that hangs up during the base OTs (which run over the peer connection). */
        int ot[2];
        make_pair(ot);
        cfg.peer = socket_transport(&ot[0]);
        close(ot[1]);
        CHECK_STATUS(fxs_party_new(&cfg, &party), FXS_STATUS_CLOSED);
        CHECK_MSG("fxs_party_new: ot.setup");
        CHECK(party == NULL);
        close(ot[0]);
        cfg.offline = FXS_OFFLINE_DEALER;
        cfg.peer = socket_transport(&fds[0]);
        cfg.dealer = socket_transport(&dealer[0]);
    }
    /* A dealer that hangs up before sending the seed. */
    close(dealer[1]);
    CHECK_STATUS(fxs_party_new(&cfg, &party), FXS_STATUS_CLOSED);
    CHECK_MSG("fxs_party_new: dealer.seed");
    CHECK(party == NULL);
    close(dealer[0]);
    close(fds[0]);
    close(fds[1]);

    t = socket_transport(&fds[0]);
    CHECK_STATUS(fxs_dealer_serve(NULL, &t, &t, NULL, NULL), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_dealer_serve(seed, NULL, &t, NULL, NULL), FXS_STATUS_NULL_POINTER);
    t.recv = NULL;
    CHECK_STATUS(fxs_dealer_serve(seed, &t, &t, NULL, NULL), FXS_STATUS_NULL_POINTER);

    CHECK_STATUS(fxs_party_add(NULL, NULL, NULL, NULL), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_party_reveal(NULL, NULL, NULL, 0), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_party_stats(NULL, NULL, NULL), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_shares_transpose(NULL, NULL), FXS_STATUS_NULL_POINTER);
    fxs_party_free(NULL);
    fxs_shares_free(NULL);
    fxs_link_free(NULL);
    fxs_data_owner_clear(NULL);
}

int main(int argc, char **argv) {
    const char *circuits_dir = argc > 1 ? argv[1] : "core/circuits";
    circuit_extra cx;
    no_session();
    /* Oversized shapes are refused before anything is allocated: the process stays small. */
    run_session(64, 16, FXS_TRUNCATION_LOCAL, oversized, NULL);
    run_session_from(FXS_OFFLINE_OT, 128, 30, FXS_TRUNCATION_PAIRS, oversized, NULL);
    {
        long peak = peak_rss_kb();
        count(peak > 0 && peak < 256 * 1024, __FILE__, __LINE__,
              "peak RSS after the oversized shapes is below 256 MiB");
    }
    run_session(64, 16, FXS_TRUNCATION_LOCAL, arithmetic, NULL);
    run_session(64, 16, FXS_TRUNCATION_PAIRS, arithmetic, NULL);
    run_session(32, 8, FXS_TRUNCATION_LOCAL, arithmetic, NULL);
    run_session(128, 30, FXS_TRUNCATION_PAIRS, arithmetic, NULL);
    run_session(64, 16, FXS_TRUNCATION_LOCAL, send_fails, NULL);
    run_session(64, 16, FXS_TRUNCATION_LOCAL, disconnects, NULL);
    /* Argument errors leave a party usable; a failure after communicating poisons it. */
    run_session(64, 16, FXS_TRUNCATION_LOCAL, party_state, NULL);
    run_session(128, 30, FXS_TRUNCATION_PAIRS, party_state, NULL);
    run_session_from(FXS_OFFLINE_OT, 64, 16, FXS_TRUNCATION_PAIRS, party_state, NULL);
    run_session_from(FXS_OFFLINE_OT, 32, 8, FXS_TRUNCATION_EXACT, party_state, NULL);
    /* The same computations with the OT-based offline phase instead of the dealer. */
    run_session_from(FXS_OFFLINE_OT, 64, 16, FXS_TRUNCATION_PAIRS, arithmetic, NULL);
    run_session_from(FXS_OFFLINE_OT, 32, 8, FXS_TRUNCATION_LOCAL, arithmetic, NULL);
    run_session_from(FXS_OFFLINE_OT, 128, 30, FXS_TRUNCATION_PAIRS, arithmetic, NULL);
    run_session_from(FXS_OFFLINE_OT, 64, 16, FXS_TRUNCATION_LOCAL, disconnects, NULL);
    run_session_from(FXS_OFFLINE_OT, 64, 16, FXS_TRUNCATION_LOCAL, ot_disconnects, NULL);
    /* Exact truncation after every product. */
    run_session(64, 16, FXS_TRUNCATION_EXACT, arithmetic, NULL);
    run_session_from(FXS_OFFLINE_OT, 32, 8, FXS_TRUNCATION_EXACT, arithmetic, NULL);
    /* The non-linear layer, with both offline sources and all ring widths; with the dealer by
       FSS (the default there) and by garbled circuits. */
    run_session(64, 16, FXS_TRUNCATION_LOCAL, nonlinear, NULL);
    run_session_with(FXS_OFFLINE_DEALER, FXS_BACKEND_GARBLED_CIRCUITS, 64, 16,
                     FXS_TRUNCATION_LOCAL, nonlinear, NULL);
    run_session(128, 30, FXS_TRUNCATION_EXACT, nonlinear, NULL);
    run_session_from(FXS_OFFLINE_OT, 32, 8, FXS_TRUNCATION_PAIRS, nonlinear, NULL);
    run_session_from(FXS_OFFLINE_OT, 64, 20, FXS_TRUNCATION_EXACT, nonlinear, NULL);
    run_session(64, 16, FXS_TRUNCATION_LOCAL, relu_disconnects, NULL);
    /* FSS sign tests on inputs promised to lie within 2^31 (sign_bits = 32) equal plaintext, as
       on the whole ring, from fewer dealer bytes; widths outside 2..=ring_bits are refused. */
    {
        uint64_t whole = sign_bits_session(0);
        uint64_t narrow = sign_bits_session(32);
        count(narrow > 0 && narrow < whole, __FILE__, __LINE__,
              "sign_bits = 32: the dealer sends fewer bytes than for the whole ring");
    }
    sign_bits_refused();
    /* Machine learning: logistic and linear regression by SGD, oblivious inference. */
    ml_dataset();
    run_session(64, 16, FXS_TRUNCATION_LOCAL, ml_train, NULL);
    run_session_from(FXS_OFFLINE_OT, 128, 30, FXS_TRUNCATION_PAIRS, ml_train, NULL);
    {
        uint32_t owner = FXS_ROLE_P1;
        run_session(64, 16, FXS_TRUNCATION_LOCAL, ml_classify, &owner);
        owner = FXS_ROLE_P0;
        run_session_from(FXS_OFFLINE_OT, 64, 16, FXS_TRUNCATION_EXACT, ml_classify, &owner);
    }
    /* A multilayer perceptron by SGD, and inference with convolutions and pooling. */
    mlp_dataset();
    run_session(64, 16, FXS_TRUNCATION_LOCAL, ml_mlp, NULL);
    run_session_from(FXS_OFFLINE_OT, 128, 30, FXS_TRUNCATION_PAIRS, ml_mlp, NULL);
    cnn_data();
    {
        uint32_t owner = FXS_ROLE_P1;
        run_session(64, 16, FXS_TRUNCATION_LOCAL, ml_cnn, &owner);
        owner = FXS_ROLE_P0;
        run_session_from(FXS_OFFLINE_OT, 64, 20, FXS_TRUNCATION_EXACT, ml_cnn, &owner);
        run_session_from(FXS_OFFLINE_OT, 128, 30, FXS_TRUNCATION_PAIRS, ml_cnn, &owner);
    }
    run_session(64, 16, FXS_TRUNCATION_LOCAL, ml_disconnects, NULL);
    {
        /* Shares from a session over Z_2^64 passed to one over Z_2^32. */
        kept_shares k;
        memset(&k, 0, sizeof k);
        run_session(64, 16, FXS_TRUNCATION_LOCAL, keep_shares, &k);
        run_session(32, 8, FXS_TRUNCATION_LOCAL, mixed_rings, &k);
        fxs_shares_free(k.x[0]);
        fxs_shares_free(k.x[1]);
    }
    data_owner();

    bad_circuits();
    memset(&cx, 0, sizeof cx);
    cx.aes = load_aes(circuits_dir);
    if (cx.aes != NULL) {
        uint8_t ct[128];
        int ok = 1;
        hex_bits(CT_HEX, ct, 128);
        run_session(64, 16, FXS_TRUNCATION_LOCAL, circuits, &cx);
        for (int i = 0; i < 128; i++) ok = ok && (cx.shared[0][i] ^ cx.shared[1][i]) == ct[i];
        count(ok, __FILE__, __LINE__, "AES outputs as XOR shares combine to the ciphertext (dealer)");
        CHECK(memcmp(cx.shared[1], ct, 128) != 0); /* one share alone is not the output */
        memset(cx.shared, 0, sizeof cx.shared);
        run_session_from(FXS_OFFLINE_OT, 32, 8, FXS_TRUNCATION_PAIRS, circuits, &cx);
        for (int i = 0; i < 128; i++) ok = ok && (cx.shared[0][i] ^ cx.shared[1][i]) == ct[i];
        count(ok, __FILE__, __LINE__, "AES outputs as XOR shares combine to the ciphertext (OT)");
        run_session(64, 16, FXS_TRUNCATION_LOCAL, circuit_disconnects, &cx);
        /* No thread is running here, so forking is safe. */
        aes_between_processes(cx.aes);
        fxs_circuit_free(cx.aes);
    }
    return report();
}
