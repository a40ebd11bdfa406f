/*
 * Tests of fixshare's C API: results against a plaintext reference, and the error paths
 * (NULL pointers, short buffers, bad configurations, a failing send callback, a peer that
 * disconnects in the middle of an operation, use after an error, freeing failed objects).
 *
 * Parties, the dealer and the data owner run as threads joined by UNIX socket pairs.
 * Prints "N passed, M failed" and exits non-zero if anything failed.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixshare.h"
#include "socket_transport.h"

/* ----- a tiny harness ----- */

static pthread_mutex_t counts_lock = PTHREAD_MUTEX_INITIALIZER;
static int passed, failed;

static void count(int ok, const char *file, int line, const char *what) {
    pthread_mutex_lock(&counts_lock);
    if (ok) {
        passed++;
    } else {
        failed++;
        fprintf(stderr, "%s:%d: FAILED: %s (last error: %s)\n", file, line, what,
                fxs_last_error_message());
    }
    pthread_mutex_unlock(&counts_lock);
}

#define CHECK(cond) count((cond) != 0, __FILE__, __LINE__, #cond)
#define CHECK_STATUS(call, expected) count((call) == (expected), __FILE__, __LINE__, #call " == " #expected)
#define CHECK_OK(call) CHECK_STATUS(call, FXS_STATUS_OK)
#define CHECK_MSG(needle) count(strstr(fxs_last_error_message(), needle) != NULL, __FILE__, __LINE__, "message contains " needle)

static void seed_for(uint8_t seed[32], uint8_t tag) {
    for (int i = 0; i < 32; i++) seed[i] = (uint8_t)(tag * 31 + i);
}

static void make_pair(int fds[2]) {
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) {
        perror("socketpair");
        exit(2);
    }
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
    uint32_t ring_bits, frac_bits, truncation;
    scenario_fn scenario;
    void *extra;
    int peer[2], dealer0[2], dealer1[2];
    fault faults[2];
    fxs_status dealer_status;
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
    s->dealer_status = fxs_dealer_serve(seed, &t0, &t1, NULL, NULL);
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
    seed_for(cfg.seed, (uint8_t)(1 + a->role));
    peer->fd = s->peer[a->role];
    peer->mode = FAULT_NONE;
    cfg.peer.send = fault_send;
    cfg.peer.recv = fault_recv;
    cfg.peer.flush = NULL;
    cfg.peer.user_data = peer;
    cfg.dealer = socket_transport(dealer_fd);
    CHECK_OK(fxs_party_new(&cfg, &party));
    if (party != NULL) s->scenario(s, a->role, party, peer);
    fxs_party_free(party);
    /* Closing the connections lets the peer and the dealer finish. */
    shutdown(peer->fd, SHUT_RDWR);
    shutdown(*dealer_fd, SHUT_RDWR);
    return NULL;
}

static void run_session(uint32_t ring_bits, uint32_t frac_bits, uint32_t truncation,
                        scenario_fn scenario, void *extra) {
    session s;
    pthread_t d, p[2];
    party_arg args[2];
    memset(&s, 0, sizeof s);
    s.ring_bits = ring_bits;
    s.frac_bits = frac_bits;
    s.truncation = truncation;
    s.scenario = scenario;
    s.extra = extra;
    make_pair(s.peer);
    make_pair(s.dealer0);
    make_pair(s.dealer1);
    pthread_create(&d, NULL, dealer_thread, &s);
    for (uint32_t r = 0; r < 2; r++) {
        args[r].s = &s;
        args[r].role = r;
        pthread_create(&p[r], NULL, party_thread, &args[r]);
    }
    pthread_join(p[0], NULL);
    pthread_join(p[1], NULL);
    pthread_join(d, NULL);
    close(s.peer[0]);
    close(s.peer[1]);
    close(s.dealer0[0]);
    close(s.dealer0[1]);
    close(s.dealer1[0]);
    close(s.dealer1[1]);
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

    /* A shape error inside a protocol step (both parties make it): poisons the session. */
    CHECK_STATUS(fxs_party_matmul(party, u, v, &r), FXS_STATUS_DIMENSION_MISMATCH);
    CHECK_MSG("fxs_party_matmul: matmul");
    CHECK_STATUS(fxs_party_add(party, u, v, &r), FXS_STATUS_POISONED);
    CHECK_MSG("first failure");
    CHECK_STATUS(fxs_party_reveal(party, u, want, NV), FXS_STATUS_POISONED);
    CHECK(r == NULL);
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
    CHECK_MSG("ring_bits");
    cfg.ring_bits = 32;
    cfg.frac_bits = 31;
    CHECK_STATUS(fxs_party_new(&cfg, &party), FXS_STATUS_INVALID_ARGUMENT);
    cfg.frac_bits = 16;
    cfg.ring_bits = 64;
    cfg.role = 2;
    CHECK_STATUS(fxs_party_new(&cfg, &party), FXS_STATUS_INVALID_ARGUMENT);
    cfg.role = FXS_ROLE_P1;
    cfg.truncation = 9;
    CHECK_STATUS(fxs_party_new(&cfg, &party), FXS_STATUS_INVALID_ARGUMENT);
    cfg.truncation = FXS_TRUNCATION_PAIRS;
    cfg.offline = FXS_OFFLINE_OT;
    CHECK_STATUS(fxs_party_new(&cfg, &party), FXS_STATUS_UNSUPPORTED);
    cfg.offline = FXS_OFFLINE_DEALER;
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

int main(void) {
    no_session();
    run_session(64, 16, FXS_TRUNCATION_LOCAL, arithmetic, NULL);
    run_session(64, 16, FXS_TRUNCATION_PAIRS, arithmetic, NULL);
    run_session(32, 8, FXS_TRUNCATION_LOCAL, arithmetic, NULL);
    run_session(128, 30, FXS_TRUNCATION_PAIRS, arithmetic, NULL);
    run_session(64, 16, FXS_TRUNCATION_LOCAL, send_fails, NULL);
    run_session(64, 16, FXS_TRUNCATION_LOCAL, disconnects, NULL);
    data_owner();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
