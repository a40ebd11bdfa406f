/*
 * Tests of fixshare-net's TLS connections and of the party daemon through the C API (issue 17,
 * parts 3 and 4): C programs as hosts of the deployment's roles beside the `fixshare-party`
 * daemons, over TLS 1.3 with pinned keys on 127.0.0.1. Every key is made at test time with
 * `fixshare-net keygen`.
 *
 * - C to C over TLS (threads): a dealer (fxs_dealer_serve), two parties and a data owner, every
 *   connection an fxs_tls_conn from fxs_tls_listen / fxs_tls_connect and its fxs_transport: the
 *   owner's values times party 0's, revealed to the parties and sent back to the owner, against
 *   plaintext.
 * - The deployment: the dealer and server 0 are `fixshare-party run` processes, server 1 is a C
 *   process hosting it with fxs_daemon_run (item 3), owner 0 is `fixshare-party owner`, owner 1
 *   is a C process (item 2: fxs_owner_data_prepare, a TLS connection to server 0 built from its
 *   key and the session id fxs_daemon_config_session_id derives, one to server 1 from
 *   fxs_daemon_config_connect, and fxs_data_owner_share_part). The job (logistic regression on
 *   breast_cancer.csv, two owners) completes; owner 0's weights_rel_rmse and accuracy match the
 *   plaintext SGD it runs on the same rows, and every process's summary is checked. Before owner
 *   1 connects, a connection with its key but the session name alone is refused at the hello.
 * - Failure paths, each with its status and message and never a hang: a wrong pin (either
 *   side), another session, an unreachable address, a silent peer, a listener nobody reaches, a
 *   peer that leaves or stops answering half-way through a product, server 0 killed during
 *   training (the C-hosted server 1 ends with FXS_STATUS_JOB_FAILED naming server0), bad
 *   arguments, unreadable and malformed files.
 *
 * Usage: test_hosts [--no-jobs]   (needs FIXSHARE_PARTY_BIN and FIXSHARE_NET_BIN: the
 *                                  fixshare-party and fixshare-net binaries; FIXSHARE_CSV, by
 *                                  default examples/data/breast_cancer.csv; --no-jobs skips the
 *                                  two daemon jobs)
 *        test_hosts server1 CONFIG                                 (internal: server 1)
 *        test_hosts owner CONFIG CSV SERVER0_ADDR KEYS_DIR [NAME]  (internal: a data owner, its
 *                                                                  key KEYS_DIR/NAME.crt, owner1
 *                                                                  by default)
 * Every process sets an alarm: a hang ends the test with a failure instead of blocking.
 * Prints "N passed, M failed" and exits non-zero if anything failed.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixshare.h"
#include "harness.h"
#include "socket_transport.h"

/* ----- files and processes ----- */

static char dir[256];
static const char *party_bin, *net_bin, *csv;

static void path_of(char *out, size_t cap, const char *name) {
    snprintf(out, cap, "%s/%s", dir, name);
}

/* The whole file as a string (empty if it cannot be read). Free it. */
static char *slurp(const char *path) {
    size_t n = 0;
    char *text = (char *)read_file(path, &n);
    return text ? text : (char *)calloc(1, 1);
}

/* The value of the line "name: value" of a summary, copied to out (empty if absent). */
static void value_of(const char *text, const char *name, char *out, size_t cap) {
    size_t n = strlen(name);
    const char *p = text;
    out[0] = 0;
    while (p && *p) {
        if (strncmp(p, name, n) == 0 && p[n] == ':' && p[n + 1] == ' ') {
            const char *v = p + n + 2, *end = strchr(v, '\n');
            size_t len = end ? (size_t)(end - v) : strlen(v);
            if (len >= cap) len = cap - 1;
            memcpy(out, v, len);
            out[len] = 0;
            return;
        }
        p = strchr(p, '\n');
        if (p) p++;
    }
}

static double number_of(const char *text, const char *name) {
    char v[64];
    value_of(text, name, v, sizeof v);
    return v[0] ? strtod(v, NULL) : NAN;
}

static void write_file(const char *name, const char *text) {
    char path[512];
    FILE *f;
    path_of(path, sizeof path, name);
    f = fopen(path, "w");
    if (!f || fputs(text, f) < 0) {
        perror(path);
        exit(2);
    }
    fclose(f);
}

/* A port on 127.0.0.1 that was free a moment ago (bound, then released). */
static int free_port(void) {
    struct sockaddr_in a = loopback(0);
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        perror("free_port");
        exit(2);
    }
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* `fixshare-net keygen --name NAME --out DIR/keys`. */
static void keygen(const char *name) {
    char out[512];
    char *argv[7];
    int st;
    path_of(out, sizeof out, "keys");
    argv[0] = (char *)net_bin;
    argv[1] = (char *)"keygen";
    argv[2] = (char *)"--name";
    argv[3] = (char *)name;
    argv[4] = (char *)"--out";
    argv[5] = out;
    argv[6] = NULL;
    st = wait_for(spawn(argv, "/dev/null", NULL), 60);
    if (!exited_with(st, 0)) {
        fprintf(stderr, "fixshare-net keygen --name %s failed\n", name);
        exit(2);
    }
}

static fxs_tls_identity *identity(const char *name) {
    char crt[512], key[512];
    fxs_tls_identity *id = NULL;
    snprintf(crt, sizeof crt, "%s/keys/%s.crt", dir, name);
    snprintf(key, sizeof key, "%s/keys/%s.key", dir, name);
    CHECK_OK(fxs_tls_identity_load(crt, key, &id));
    return id;
}

static void pin_of(const char *name, char pin[FXS_TLS_PIN_LEN]) {
    char crt[512];
    snprintf(crt, sizeof crt, "%s/keys/%s.crt", dir, name);
    CHECK_OK(fxs_tls_pin_of_certificate(crt, pin, FXS_TLS_PIN_LEN));
}

static fxs_tls_endpoint *endpoint(const char *name, uint32_t party, const char *session,
                                  const fxs_tls_timeouts *t) {
    fxs_tls_identity *id = identity(name);
    fxs_tls_endpoint *ep = NULL;
    uint8_t sid[32];
    CHECK_OK(fxs_tls_session_id(session, sid));
    CHECK_OK(fxs_tls_endpoint_new(id, party, sid, t, &ep));
    fxs_tls_identity_free(id); /* the endpoint keeps its own reference */
    return ep;
}

static void addr_of(char *out, size_t cap, uint16_t port) {
    snprintf(out, cap, "127.0.0.1:%u", (unsigned)port);
}

/* ----- C to C over TLS: a dealer, two parties and a data owner (threads) ----- */

#define N 4
static const double OWNER_X[N] = {1.5, -2.25, 0.5, 3.0};
static const double PARTY_Y[N] = {2.0, 0.5, -4.0, 1.25};

typedef struct {
    fxs_tls_endpoint *ep;
    fxs_tls_listener *listener; /* the party's own listener (party 0: party 1 and the owner) */
    char dealer_addr[64], peer_addr[64];
    char dealer_pin[FXS_TLS_PIN_LEN], peer_pin[FXS_TLS_PIN_LEN];
    uint32_t role;
    double revealed[N];
    fxs_status status;
} party_job;

typedef struct {
    fxs_tls_listener *listener;
    fxs_status status;
    fxs_stats stats[2];
} dealer_job;

typedef struct {
    fxs_tls_endpoint *ep;
    char addr[2][64], pin[2][FXS_TLS_PIN_LEN];
    double result[N];
    fxs_status status;
} owner_job;

static void *dealer_main(void *arg) {
    dealer_job *d = (dealer_job *)arg;
    fxs_tls_conn *c[2] = {NULL, NULL};
    fxs_transport t[2];
    uint8_t seed[32];
    random_seed(seed);
    d->status = fxs_tls_listener_accept_all(d->listener, 30000, c, 2);
    if (d->status == FXS_STATUS_OK) {
        CHECK_OK(fxs_tls_conn_transport(c[0], &t[0]));
        CHECK_OK(fxs_tls_conn_transport(c[1], &t[1]));
        d->status = fxs_dealer_serve(seed, &t[0], &t[1], &d->stats[0], &d->stats[1]);
    }
    fxs_tls_conn_free(c[0]);
    fxs_tls_conn_free(c[1]);
    return NULL;
}

static void *party_main(void *arg) {
    party_job *p = (party_job *)arg;
    fxs_tls_conn *dealer = NULL, *peer = NULL, *owner = NULL;
    fxs_party_config cfg;
    fxs_party *party = NULL;
    fxs_link *link = NULL;
    fxs_shares *x = NULL, *y = NULL, *z = NULL;
    uint32_t who = 99;
    p->status = fxs_tls_connect(p->ep, p->dealer_addr, FXS_NET_PARTY_DEALER, p->dealer_pin, &dealer);
    if (p->status != FXS_STATUS_OK) goto out;
    if (p->role == FXS_ROLE_P0) {
        fxs_tls_conn *two[2] = {NULL, NULL};
        p->status = fxs_tls_listener_accept_all(p->listener, 30000, two, 2);
        if (p->status != FXS_STATUS_OK) goto out;
        peer = two[0];
        owner = two[1];
    } else {
        p->status = fxs_tls_connect(p->ep, p->peer_addr, FXS_NET_PARTY_SERVER0, p->peer_pin, &peer);
        if (p->status != FXS_STATUS_OK) goto out;
        p->status = fxs_tls_listener_accept(p->listener, 30000, &owner);
        if (p->status != FXS_STATUS_OK) goto out;
    }
    CHECK_OK(fxs_tls_conn_peer(owner, &who));
    CHECK(who == FXS_NET_PARTY_OWNER0);
    CHECK_OK(fxs_party_config_init(&cfg));
    cfg.role = p->role;
    random_seed(cfg.seed);
    CHECK_OK(fxs_tls_conn_transport(peer, &cfg.peer));
    CHECK_OK(fxs_tls_conn_transport(dealer, &cfg.dealer));
    p->status = fxs_party_new(&cfg, &party);
    if (p->status != FXS_STATUS_OK) goto out;
    {
        fxs_transport t;
        CHECK_OK(fxs_tls_conn_transport(owner, &t));
        CHECK_OK(fxs_link_new(&t, 0, &link));
    }
    if ((p->status = fxs_party_receive_owner_input(party, link, N, 1, &x)) != FXS_STATUS_OK) goto out;
    p->status = p->role == FXS_ROLE_P0 ? fxs_party_share_input(party, PARTY_Y, N, 1, &y)
                                       : fxs_party_receive_input(party, N, 1, &y);
    if (p->status != FXS_STATUS_OK) goto out;
    if ((p->status = fxs_party_mul(party, x, y, &z)) != FXS_STATUS_OK) goto out;
    if ((p->status = fxs_party_reveal(party, z, p->revealed, N)) != FXS_STATUS_OK) goto out;
    p->status = fxs_party_send_owner_output(party, link, z);
out:
    fxs_shares_free(x);
    fxs_shares_free(y);
    fxs_shares_free(z);
    fxs_link_free(link);
    fxs_party_free(party);
    /* Done: the dealer serves until both parties close their connections to it. */
    if (p->status == FXS_STATUS_OK) {
        CHECK_OK(fxs_tls_conn_close(dealer));
        CHECK_OK(fxs_tls_conn_close(peer));
        CHECK_OK(fxs_tls_conn_close(owner));
    }
    fxs_tls_conn_free(dealer);
    fxs_tls_conn_free(peer);
    fxs_tls_conn_free(owner);
    return NULL;
}

static void *owner_main(void *arg) {
    owner_job *o = (owner_job *)arg;
    fxs_tls_conn *c[2] = {NULL, NULL};
    fxs_data_owner owner;
    fxs_data_owner_config cfg;
    int initialised = 0;
    o->status = fxs_tls_connect(o->ep, o->addr[0], FXS_NET_PARTY_SERVER0, o->pin[0], &c[0]);
    if (o->status != FXS_STATUS_OK) goto out;
    o->status = fxs_tls_connect(o->ep, o->addr[1], FXS_NET_PARTY_SERVER1, o->pin[1], &c[1]);
    if (o->status != FXS_STATUS_OK) goto out;
    CHECK_OK(fxs_data_owner_config_init(&cfg));
    random_seed(cfg.seed);
    CHECK_OK(fxs_tls_conn_transport(c[0], &cfg.server0));
    CHECK_OK(fxs_tls_conn_transport(c[1], &cfg.server1));
    if ((o->status = fxs_data_owner_init(&owner, &cfg)) != FXS_STATUS_OK) goto out;
    initialised = 1;
    if ((o->status = fxs_data_owner_share(&owner, OWNER_X, N)) != FXS_STATUS_OK) goto out;
    o->status = fxs_data_owner_reconstruct(&owner, o->result, N);
out:
    if (initialised) fxs_data_owner_clear(&owner);
    if (o->status == FXS_STATUS_OK) {
        CHECK_OK(fxs_tls_conn_close(c[0]));
        CHECK_OK(fxs_tls_conn_close(c[1]));
    }
    fxs_tls_conn_free(c[0]);
    fxs_tls_conn_free(c[1]);
    return NULL;
}

static void c_to_c_over_tls(void) {
    const char *session = "c-to-c";
    char pin_p0[FXS_TLS_PIN_LEN], pin_p1[FXS_TLS_PIN_LEN], pin_d[FXS_TLS_PIN_LEN],
        pin_o[FXS_TLS_PIN_LEN];
    fxs_tls_endpoint *ep_d = endpoint("dealer", FXS_NET_PARTY_DEALER, session, NULL);
    fxs_tls_endpoint *ep_p0 = endpoint("p0", FXS_NET_PARTY_SERVER0, session, NULL);
    fxs_tls_endpoint *ep_p1 = endpoint("p1", FXS_NET_PARTY_SERVER1, session, NULL);
    fxs_tls_endpoint *ep_o = endpoint("owner", FXS_NET_PARTY_OWNER0, session, NULL);
    dealer_job dj;
    party_job pj[2];
    owner_job oj;
    pthread_t td, tp[2], to;
    uint16_t port_d = 0, port_0 = 0, port_1 = 0;
    pin_of("p0", pin_p0);
    pin_of("p1", pin_p1);
    pin_of("dealer", pin_d);
    pin_of("owner", pin_o);
    memset(&dj, 0, sizeof dj);
    memset(pj, 0, sizeof pj);
    memset(&oj, 0, sizeof oj);
    {
        fxs_tls_peer both[2] = {{FXS_NET_PARTY_SERVER0, pin_p0}, {FXS_NET_PARTY_SERVER1, pin_p1}};
        fxs_tls_peer to_p0[2] = {{FXS_NET_PARTY_SERVER1, pin_p1}, {FXS_NET_PARTY_OWNER0, pin_o}};
        fxs_tls_peer to_p1[1] = {{FXS_NET_PARTY_OWNER0, pin_o}};
        CHECK_OK(fxs_tls_listen(ep_d, "127.0.0.1:0", both, 2, &dj.listener));
        CHECK_OK(fxs_tls_listen(ep_p0, "127.0.0.1:0", to_p0, 2, &pj[0].listener));
        CHECK_OK(fxs_tls_listen(ep_p1, "127.0.0.1:0", to_p1, 1, &pj[1].listener));
    }
    if (!dj.listener || !pj[0].listener || !pj[1].listener) goto out;
    CHECK_OK(fxs_tls_listener_port(dj.listener, &port_d));
    CHECK_OK(fxs_tls_listener_port(pj[0].listener, &port_0));
    CHECK_OK(fxs_tls_listener_port(pj[1].listener, &port_1));
    CHECK(port_d != 0 && port_0 != 0 && port_1 != 0);
    for (int i = 0; i < 2; i++) {
        pj[i].ep = i == 0 ? ep_p0 : ep_p1;
        pj[i].role = i == 0 ? FXS_ROLE_P0 : FXS_ROLE_P1;
        addr_of(pj[i].dealer_addr, sizeof pj[i].dealer_addr, port_d);
        addr_of(pj[i].peer_addr, sizeof pj[i].peer_addr, port_0);
        memcpy(pj[i].dealer_pin, pin_d, FXS_TLS_PIN_LEN);
        memcpy(pj[i].peer_pin, pin_p0, FXS_TLS_PIN_LEN);
    }
    oj.ep = ep_o;
    addr_of(oj.addr[0], sizeof oj.addr[0], port_0);
    addr_of(oj.addr[1], sizeof oj.addr[1], port_1);
    memcpy(oj.pin[0], pin_p0, FXS_TLS_PIN_LEN);
    memcpy(oj.pin[1], pin_p1, FXS_TLS_PIN_LEN);
    pthread_create(&td, NULL, dealer_main, &dj);
    pthread_create(&tp[0], NULL, party_main, &pj[0]);
    pthread_create(&tp[1], NULL, party_main, &pj[1]);
    pthread_create(&to, NULL, owner_main, &oj);
    pthread_join(to, NULL);
    pthread_join(tp[0], NULL);
    pthread_join(tp[1], NULL);
    pthread_join(td, NULL);
    CHECK(oj.status == FXS_STATUS_OK);
    CHECK(pj[0].status == FXS_STATUS_OK && pj[1].status == FXS_STATUS_OK);
    CHECK(dj.status == FXS_STATUS_OK);
    CHECK(dj.stats[0].bytes_sent > 0 && dj.stats[1].bytes_sent > 0);
    for (int i = 0; i < N; i++) {
        double want = OWNER_X[i] * PARTY_Y[i];
        CHECK(fabs(pj[0].revealed[i] - want) < 1e-3 && fabs(pj[1].revealed[i] - want) < 1e-3);
        CHECK(fabs(oj.result[i] - want) < 1e-3);
    }
out:
    fxs_tls_listener_free(dj.listener);
    fxs_tls_listener_free(pj[0].listener);
    fxs_tls_listener_free(pj[1].listener);
    fxs_tls_endpoint_free(ep_d);
    fxs_tls_endpoint_free(ep_p0);
    fxs_tls_endpoint_free(ep_p1);
    fxs_tls_endpoint_free(ep_o);
}

/* ----- a peer that leaves or stops answering half-way (threads, OT offline phase) ----- */

typedef struct {
    fxs_tls_conn *conn;
    uint32_t role;
    int leave; /* 1: free everything without closing; 2: stop answering, then free */
    fxs_status status;      /* of the product that the other side never completes */
    char message[512];      /* its fxs_last_error_message */
    char conn_error[256];   /* its fxs_tls_conn_error */
    pthread_mutex_t *lock;
    pthread_cond_t *cond;
    int *stage; /* 1: party 0 has both inputs; 2: party 0's product failed */
} cut_job;

/* Sets *c->stage to `to`, or waits until it is at least `at_least` (to = 0). */
static void cut_stage(cut_job *c, int to, int at_least) {
    pthread_mutex_lock(c->lock);
    if (to) {
        *c->stage = to;
        pthread_cond_broadcast(c->cond);
    }
    while (*c->stage < at_least) pthread_cond_wait(c->cond, c->lock);
    pthread_mutex_unlock(c->lock);
}

static void *cut_main(void *arg) {
    cut_job *c = (cut_job *)arg;
    fxs_party_config cfg;
    fxs_party *party = NULL;
    fxs_shares *x = NULL, *y = NULL;
    double v[2] = {1.0, 2.0};
    CHECK_OK(fxs_party_config_init(&cfg));
    cfg.role = c->role;
    cfg.offline = FXS_OFFLINE_OT;
    random_seed(cfg.seed);
    CHECK_OK(fxs_tls_conn_transport(c->conn, &cfg.peer));
    CHECK_OK(fxs_party_new(&cfg, &party));
    if (!party) {
        cut_stage(c, 2, 0); /* nothing to wait for */
        return NULL;
    }
    CHECK_OK(c->role == FXS_ROLE_P0 ? fxs_party_share_input(party, v, 2, 1, &x)
                                    : fxs_party_receive_input(party, 2, 1, &x));
    CHECK_OK(c->role == FXS_ROLE_P1 ? fxs_party_share_input(party, v, 2, 1, &y)
                                    : fxs_party_receive_input(party, 2, 1, &y));
    if (c->role == FXS_ROLE_P1) {
        /* Party 1 leaves half-way: party 0's product waits for its message. It leaves once
           party 0 has its input (a connection cut at once may lose what it still had queued),
           or, alive but silent, once party 0 gave up. */
        cut_stage(c, 0, c->leave == 2 ? 2 : 1);
        fxs_shares_free(x);
        fxs_shares_free(y);
        fxs_party_free(party);
        fxs_tls_conn_free(c->conn); /* cut, without TLS's close_notify */
        c->conn = NULL;
        return NULL;
    }
    /* Party 0 waits 400 ms for an answer from here on (not during the setup, which takes
       longer under valgrind). */
    if (c->leave == 2) CHECK_OK(fxs_tls_conn_set_timeouts(c->conn, 400, 400));
    cut_stage(c, 1, 0);
    {
        fxs_shares *z = NULL;
        char buf[256];
        size_t needed = 0;
        c->status = fxs_party_mul(party, x, y, &z);
        snprintf(c->message, sizeof c->message, "%s", fxs_last_error_message());
        CHECK(z == NULL);
        CHECK_OK(fxs_tls_conn_error(c->conn, buf, sizeof buf, &needed));
        snprintf(c->conn_error, sizeof c->conn_error, "%s", buf);
        CHECK(needed == strlen(buf));
        /* The party is poisoned: every later call says so. */
        CHECK_STATUS(fxs_party_mul(party, x, y, &z), FXS_STATUS_POISONED);
        cut_stage(c, 2, 0);
    }
    fxs_shares_free(x);
    fxs_shares_free(y);
    fxs_party_free(party);
    return NULL;
}

static void peer_leaves(int how) {
    const char *session = "cut";
    char pin_p0[FXS_TLS_PIN_LEN], pin_p1[FXS_TLS_PIN_LEN], addr[64];
    fxs_tls_endpoint *ep0 = endpoint("p0", 0, session, NULL), *ep1 = endpoint("p1", 1, session, NULL);
    fxs_tls_listener *l = NULL;
    fxs_tls_conn *c0 = NULL, *c1 = NULL;
    uint16_t port = 0;
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
    int stage = 0;
    cut_job j[2];
    pthread_t t[2];
    double start;
    pin_of("p0", pin_p0);
    pin_of("p1", pin_p1);
    {
        fxs_tls_peer p1 = {1, pin_p1};
        CHECK_OK(fxs_tls_listen(ep0, "127.0.0.1:0", &p1, 1, &l));
    }
    if (!l) goto out;
    CHECK_OK(fxs_tls_listener_port(l, &port));
    addr_of(addr, sizeof addr, port);
    CHECK_OK(fxs_tls_connect(ep1, addr, 0, pin_p0, &c1));
    CHECK_OK(fxs_tls_listener_accept(l, 10000, &c0));
    if (!c0 || !c1) goto out;
    memset(j, 0, sizeof j);
    for (int i = 0; i < 2; i++) {
        j[i].conn = i == 0 ? c0 : c1;
        j[i].role = i == 0 ? FXS_ROLE_P0 : FXS_ROLE_P1;
        j[i].leave = how;
        j[i].lock = &lock;
        j[i].cond = &cond;
        j[i].stage = &stage;
    }
    start = now();
    pthread_create(&t[0], NULL, cut_main, &j[0]);
    pthread_create(&t[1], NULL, cut_main, &j[1]);
    pthread_join(t[0], NULL);
    pthread_join(t[1], NULL);
    /* Both threads ended (the alarm catches a hang; the bound leaves room for valgrind). */
    CHECK(now() - start < 120);
    if (how == 1) {
        CHECK(j[0].status == FXS_STATUS_CLOSED);
        CHECK(strncmp(j[0].message, "fxs_party_mul: ", 15) == 0);
        CHECK(strstr(j[0].message, "(the connection to the peer, `peer`)") != NULL);
        CHECK(strstr(j[0].conn_error, "the peer closed the connection") != NULL);
    } else {
        CHECK(j[0].status == FXS_STATUS_TRANSPORT);
        CHECK(strstr(j[0].message, "code 1001") != NULL);
        CHECK(strstr(j[0].conn_error, "timed out: the peer sent nothing for 400ms") != NULL);
    }
    if (j[0].status != (how == 1 ? FXS_STATUS_CLOSED : FXS_STATUS_TRANSPORT))
        fprintf(stderr, "    message: %s\n    connection: %s\n", j[0].message, j[0].conn_error);
    c1 = NULL; /* freed by party 1's thread */
out:
    fxs_tls_conn_free(c0);
    fxs_tls_conn_free(c1);
    fxs_tls_listener_free(l);
    fxs_tls_endpoint_free(ep0);
    fxs_tls_endpoint_free(ep1);
}

/* ----- refusals: pins, sessions, addresses, silent peers ----- */

typedef struct {
    fxs_tls_listener *l;
    fxs_status status;
    fxs_tls_conn *conn;
} accept_job;

static void *accept_main(void *arg) {
    accept_job *a = (accept_job *)arg;
    a->status = fxs_tls_listener_accept(a->l, 800, &a->conn);
    return NULL;
}

/* Connects ep to a listener of p0 (session "refusals") expecting `expected`, and returns the
   client's status, its message in msg; the listener must accept nothing. */
static fxs_status try_connect(fxs_tls_endpoint *ep, const fxs_tls_peer *expected, const char *pin,
                              char *msg, size_t cap) {
    fxs_tls_endpoint *ep0 = endpoint("p0", 0, "refusals", NULL);
    fxs_tls_listener *l = NULL;
    fxs_tls_conn *c = NULL;
    fxs_status st = FXS_STATUS_INTERNAL;
    uint16_t port = 0;
    char addr[64];
    accept_job a;
    pthread_t t;
    CHECK_OK(fxs_tls_listen(ep0, "127.0.0.1:0", expected, 1, &l));
    if (!l) goto out;
    CHECK_OK(fxs_tls_listener_port(l, &port));
    addr_of(addr, sizeof addr, port);
    memset(&a, 0, sizeof a);
    a.l = l;
    pthread_create(&t, NULL, accept_main, &a);
    st = fxs_tls_connect(ep, addr, 0, pin, &c);
    snprintf(msg, cap, "%s", st == FXS_STATUS_OK ? "" : fxs_last_error_message());
    pthread_join(t, NULL);
    /* Nothing got through to the listener. */
    CHECK(a.status == FXS_STATUS_TIMEOUT && a.conn == NULL);
    fxs_tls_conn_free(a.conn);
    CHECK((st == FXS_STATUS_OK) == (c != NULL));
out:
    fxs_tls_conn_free(c);
    fxs_tls_listener_free(l);
    fxs_tls_endpoint_free(ep0);
    return st;
}

static void refusals(void) {
    char pin_p0[FXS_TLS_PIN_LEN], pin_p1[FXS_TLS_PIN_LEN], pin_other[FXS_TLS_PIN_LEN], addr[64];
    fxs_tls_timeouts quick;
    fxs_tls_endpoint *p1 = endpoint("p1", 1, "refusals", NULL);
    fxs_tls_endpoint *p1_other_session = endpoint("p1", 1, "another session", NULL);
    fxs_tls_endpoint *impostor = endpoint("owner", 1, "refusals", NULL);
    fxs_tls_endpoint *fast;
    fxs_tls_conn *c = NULL;
    double start;
    int port, fd;
    pin_of("p0", pin_p0);
    pin_of("p1", pin_p1);
    pin_of("dealer", pin_other);
    {
        fxs_tls_peer expect_p1 = {1, pin_p1};
        char msg[1024];
        /* A wrong pin at the client: party 0's key is not the one it pins. */
        CHECK_STATUS(try_connect(p1, &expect_p1, pin_other, msg, sizeof msg), FXS_STATUS_TLS);
        CHECK(strncmp(msg, "fxs_tls_connect: TLS handshake failed: ", 39) == 0);
        CHECK(strstr(msg, "is not pinned here") != NULL);
        /* A key the listener does not pin: it refuses the handshake. */
        CHECK_STATUS(try_connect(impostor, &expect_p1, pin_p0, msg, sizeof msg), FXS_STATUS_TLS);
        CHECK(strstr(msg, "the peer refused the TLS session") != NULL);
        /* The right keys, another session: the hello refuses it on both ends. */
        CHECK_STATUS(try_connect(p1_other_session, &expect_p1, pin_p0, msg, sizeof msg),
                     FXS_STATUS_HELLO);
        CHECK(strstr(msg, "session id mismatch") != NULL);
        /* Its own key as the peer's: refused before anything is sent. */
        CHECK_STATUS(try_connect(p1, &expect_p1, pin_p1, msg, sizeof msg),
                     FXS_STATUS_INVALID_ARGUMENT);
        CHECK(strstr(msg, "own key") != NULL);
    }

    CHECK_OK(fxs_tls_timeouts_init(&quick));
    CHECK(quick.connect_ms == 30000 && quick.handshake_ms == 10000 && quick.read_ms == 300000 &&
          quick.write_ms == 60000);
    quick.connect_ms = 400;
    quick.handshake_ms = 400;
    fast = endpoint("p1", 1, "refusals", &quick);
    /* Nothing listens: refused until the connect timeout, then FXS_STATUS_UNREACHABLE. */
    port = free_port();
    addr_of(addr, sizeof addr, (uint16_t)port);
    start = now();
    CHECK_STATUS(fxs_tls_connect(fast, addr, 0, pin_p0, &c), FXS_STATUS_UNREACHABLE);
    CHECK(strstr(fxs_last_error_message(), "could not connect within 400ms") != NULL ||
          strstr(fxs_last_error_message(), "connect to 127.0.0.1:") != NULL);
    CHECK(c == NULL && now() - start < 5);
    CHECK_STATUS(fxs_tls_connect(fast, "no-such-host.invalid:7000", 0, pin_p0, &c),
                 FXS_STATUS_UNREACHABLE);
    /* A peer that takes the TCP connection and says nothing: FXS_STATUS_TIMEOUT. */
    {
        struct sockaddr_in a = loopback(0);
        socklen_t len = sizeof a;
        fd = socket(AF_INET, SOCK_STREAM, 0);
        CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && listen(fd, 4) == 0 &&
              getsockname(fd, (struct sockaddr *)&a, &len) == 0);
        addr_of(addr, sizeof addr, ntohs(a.sin_port));
        start = now();
        CHECK_STATUS(fxs_tls_connect(fast, addr, 0, pin_p0, &c), FXS_STATUS_TIMEOUT);
        CHECK_MSG("timed out");
        CHECK(c == NULL && now() - start < 5);
        close(fd);
    }
    /* A listener nobody reaches: accept and accept_all time out, naming the missing party. */
    {
        fxs_tls_endpoint *ep0 = endpoint("p0", 0, "refusals", NULL);
        fxs_tls_listener *l = NULL;
        fxs_tls_peer expect_p1 = {1, pin_p1};
        fxs_tls_conn *all[2] = {NULL, NULL};
        CHECK_OK(fxs_tls_listen(ep0, "127.0.0.1:0", &expect_p1, 1, &l));
        start = now();
        CHECK_STATUS(fxs_tls_listener_accept(l, 300, &c), FXS_STATUS_TIMEOUT);
        CHECK_STATUS(fxs_tls_listener_accept_all(l, 300, all, 1), FXS_STATUS_TIMEOUT);
        CHECK_MSG("(party 1) did not come within");
        CHECK(all[0] == NULL && now() - start < 5);
        CHECK_STATUS(fxs_tls_listener_accept_all(l, 300, all, 2), FXS_STATUS_INVALID_ARGUMENT);
        fxs_tls_listener_free(l);
        fxs_tls_endpoint_free(ep0);
    }
    fxs_tls_endpoint_free(fast);
    fxs_tls_endpoint_free(p1);
    fxs_tls_endpoint_free(p1_other_session);
    fxs_tls_endpoint_free(impostor);
}

/* ----- argument checks and bad files ----- */

static void arguments(void) {
    char pin[FXS_TLS_PIN_LEN], small[10], path[512], crt[512], key[512];
    uint8_t sid[32];
    fxs_tls_identity *id = NULL;
    fxs_tls_endpoint *ep = NULL;
    fxs_tls_listener *l = NULL;
    fxs_tls_conn *c = NULL;
    fxs_tls_timeouts t;
    fxs_daemon_config *cfg = NULL;
    fxs_daemon_summary *s = NULL;
    fxs_owner_data *data = NULL;
    fxs_transport tr;
    snprintf(crt, sizeof crt, "%s/keys/p0.crt", dir);
    snprintf(key, sizeof key, "%s/keys/p0.key", dir);

    CHECK_STATUS(fxs_tls_identity_load(NULL, key, &id), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_tls_identity_load(crt, key, NULL), FXS_STATUS_NULL_POINTER);
    path_of(path, sizeof path, "missing.crt");
    CHECK_STATUS(fxs_tls_identity_load(path, key, &id), FXS_STATUS_BAD_CONFIG);
    CHECK_MSG("missing.crt");
    CHECK(id == NULL);
    /* The key of another party with this certificate; a key file as the certificate. */
    snprintf(path, sizeof path, "%s/keys/p1.key", dir);
    CHECK_STATUS(fxs_tls_identity_load(crt, path, &id), FXS_STATUS_BAD_CONFIG);
    CHECK_MSG("unusable key");
    CHECK_STATUS(fxs_tls_identity_load(key, key, &id), FXS_STATUS_BAD_CONFIG);
    CHECK_MSG("no certificate");
    CHECK_OK(fxs_tls_identity_load(crt, key, &id));
    CHECK_STATUS(fxs_tls_identity_pin(id, small, sizeof small), FXS_STATUS_BUFFER_TOO_SMALL);
    CHECK_STATUS(fxs_tls_identity_pin(id, NULL, 0), FXS_STATUS_NULL_POINTER);
    CHECK_OK(fxs_tls_identity_pin(id, pin, sizeof pin));
    CHECK(strncmp(pin, "sha256:", 7) == 0 && strlen(pin) == 71);
    {
        char from_crt[FXS_TLS_PIN_LEN];
        CHECK_OK(fxs_tls_pin_of_certificate(crt, from_crt, sizeof from_crt));
        CHECK(strcmp(pin, from_crt) == 0);
        CHECK_STATUS(fxs_tls_pin_of_certificate(key, from_crt, sizeof from_crt), FXS_STATUS_BAD_CONFIG);
    }
    CHECK_STATUS(fxs_tls_session_id(NULL, sid), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_tls_session_id("x", NULL), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_tls_session_id("\xff", sid), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_OK(fxs_tls_session_id("x", sid));
    CHECK_STATUS(fxs_tls_endpoint_new(NULL, 0, sid, NULL, &ep), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_tls_endpoint_new(id, 256, sid, NULL, &ep), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(fxs_tls_endpoint_new(id, 0, NULL, NULL, &ep), FXS_STATUS_NULL_POINTER);
    CHECK_OK(fxs_tls_timeouts_init(&t));
    t.read_ms = 0;
    CHECK_STATUS(fxs_tls_endpoint_new(id, 0, sid, &t, &ep), FXS_STATUS_INVALID_ARGUMENT);
    CHECK(ep == NULL);
    CHECK_OK(fxs_tls_endpoint_new(id, 0, sid, NULL, &ep));
    CHECK_STATUS(fxs_tls_connect(ep, "127.0.0.1:1", 1, "sha256:12", &c), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_MSG("not a pin");
    CHECK_STATUS(fxs_tls_connect(ep, NULL, 1, pin, &c), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_tls_connect(ep, "127.0.0.1:1", 300, pin, &c), FXS_STATUS_INVALID_ARGUMENT);
    /* Its own key as the peer's, itself as the peer. */
    CHECK_STATUS(fxs_tls_connect(ep, "127.0.0.1:1", 1, pin, &c), FXS_STATUS_INVALID_ARGUMENT);
    CHECK_MSG("own key");
    CHECK(c == NULL);
    {
        fxs_tls_peer none = {1, NULL}, self = {0, pin}, bad = {1, "sha256:zz"};
        CHECK_STATUS(fxs_tls_listen(ep, "127.0.0.1:0", &self, 0, &l), FXS_STATUS_INVALID_ARGUMENT);
        CHECK_STATUS(fxs_tls_listen(ep, "127.0.0.1:0", &none, 1, &l), FXS_STATUS_NULL_POINTER);
        CHECK_STATUS(fxs_tls_listen(ep, "127.0.0.1:0", &self, 1, &l), FXS_STATUS_INVALID_ARGUMENT);
        CHECK_STATUS(fxs_tls_listen(ep, "127.0.0.1:0", &bad, 1, &l), FXS_STATUS_INVALID_ARGUMENT);
        CHECK_STATUS(fxs_tls_listen(ep, "not an address", &bad, 1, &l), FXS_STATUS_INVALID_ARGUMENT);
        CHECK(l == NULL);
    }
    CHECK_STATUS(fxs_tls_listener_accept(NULL, 10, &c), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_tls_conn_transport(NULL, &tr), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_tls_conn_close(NULL), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_tls_conn_set_timeouts(NULL, 1, 1), FXS_STATUS_NULL_POINTER);
    CHECK_STATUS(fxs_tls_conn_error(NULL, small, sizeof small, NULL), FXS_STATUS_NULL_POINTER);
    CHECK(strcmp(fxs_status_name(FXS_STATUS_TLS), "FXS_STATUS_TLS") == 0);
    CHECK(strcmp(fxs_status_name(FXS_STATUS_JOB_FAILED), "FXS_STATUS_JOB_FAILED") == 0);
    CHECK(strcmp(fxs_status_name(FXS_STATUS_BAD_CONFIG), "FXS_STATUS_BAD_CONFIG") == 0);
    fxs_tls_conn_free(NULL);
    fxs_tls_listener_free(NULL);
    fxs_tls_endpoint_free(ep);
    fxs_tls_identity_free(id);
    fxs_tls_identity_free(NULL);

    /* Daemon configurations: unreadable, malformed, refused, the wrong role. */
    CHECK_STATUS(fxs_daemon_config_load(NULL, &cfg), FXS_STATUS_NULL_POINTER);
    path_of(path, sizeof path, "missing.toml");
    CHECK_STATUS(fxs_daemon_config_load(path, &cfg), FXS_STATUS_BAD_CONFIG);
    CHECK_MSG("cannot read");
    write_file("malformed.toml", "role = \"server0\"\nsession = [\n");
    path_of(path, sizeof path, "malformed.toml");
    CHECK_STATUS(fxs_daemon_config_load(path, &cfg), FXS_STATUS_BAD_CONFIG);
    CHECK_MSG("malformed.toml");
    write_file("seed.toml", "role = \"dealer\"\nsession = \"s\"\nlisten = \"127.0.0.1:0\"\n"
                            "dealer_seed = 7\n[keys]\ndir = \"keys\"\n");
    path_of(path, sizeof path, "seed.toml");
    CHECK_STATUS(fxs_daemon_config_load(path, &cfg), FXS_STATUS_BAD_CONFIG);
    CHECK_MSG("dealer_seed");
    write_file("unpinned.toml", "role = \"dealer\"\nsession = \"s\"\nlisten = \"127.0.0.1:0\"\n"
                                "[keys]\ncertificate = \"keys/p0.crt\"\nkey = \"keys/p0.key\"\n");
    path_of(path, sizeof path, "unpinned.toml");
    CHECK_STATUS(fxs_daemon_config_load(path, &cfg), FXS_STATUS_BAD_CONFIG);
    CHECK_MSG("not pinned");
    CHECK(cfg == NULL);
    /* A valid owner configuration cannot be run as a server, and data is checked. */
    write_file("lone-owner.toml",
               "role = \"owner\"\nindex = 0\nsession = \"s\"\n[keys]\ncertificate = \"keys/owner.crt\"\n"
               "key = \"keys/owner.key\"\n[peers.server0]\naddress = \"127.0.0.1:1\"\n"
               "certificate = \"keys/p0.crt\"\n[peers.server1]\naddress = \"127.0.0.1:2\"\n"
               "certificate = \"keys/p1.crt\"\n[job]\nkind = \"train_glm\"\n");
    path_of(path, sizeof path, "lone-owner.toml");
    CHECK_OK(fxs_daemon_config_load(path, &cfg));
    if (cfg) {
        uint32_t role = 99, party = 99;
        uint8_t sid2[32];
        CHECK_OK(fxs_daemon_config_role(cfg, &role, &party));
        CHECK(role == FXS_DAEMON_ROLE_OWNER && party == FXS_NET_PARTY_OWNER0);
        CHECK_OK(fxs_daemon_config_session_id(cfg, sid2));
        CHECK_OK(fxs_tls_session_id("s", sid));
        CHECK(memcmp(sid, sid2, 32) != 0); /* the job is bound in */
        CHECK_STATUS(fxs_daemon_run(cfg, &s), FXS_STATUS_INVALID_ARGUMENT);
        CHECK(s == NULL);
        CHECK_STATUS(fxs_daemon_config_connect(cfg, FXS_DAEMON_ROLE_DEALER, &c), FXS_STATUS_INVALID_ARGUMENT);
        CHECK_STATUS(fxs_daemon_config_connect(cfg, 9, &c), FXS_STATUS_INVALID_ARGUMENT);
        CHECK_STATUS(fxs_owner_data_prepare(cfg, NULL, &data), FXS_STATUS_NULL_POINTER);
        path_of(path, sizeof path, "missing.csv");
        CHECK_STATUS(fxs_owner_data_prepare(cfg, path, &data), FXS_STATUS_INVALID_ARGUMENT);
        CHECK_MSG("missing.csv");
        write_file("bad.csv", "a,b,y\n1,2,0\n3,oops,1\n");
        path_of(path, sizeof path, "bad.csv");
        CHECK_STATUS(fxs_owner_data_prepare(cfg, path, &data), FXS_STATUS_INVALID_ARGUMENT);
        CHECK_MSG("line 3");
        CHECK(data == NULL);
        CHECK_OK(fxs_owner_data_prepare(cfg, csv, &data));
        if (data) {
            fxs_owner_data_info info;
            fxs_owner_part part;
            CHECK_OK(fxs_owner_data_get_info(data, &info));
            /* One owner: every training row (456 of 569), 30 features, the weights back. */
            CHECK(info.ring_bits == 64 && info.frac_bits == 16 && info.parts == 1);
            CHECK(info.rows == 456 && info.cols == 30 && info.model_len == 31);
            CHECK_OK(fxs_owner_data_part(data, 0, &part));
            CHECK(part.rows == 456 && part.cols == 30 && part.x != NULL && part.y != NULL);
            CHECK_STATUS(fxs_owner_data_part(data, 1, &part), FXS_STATUS_OUT_OF_RANGE);
            CHECK_STATUS(fxs_owner_data_get_info(data, NULL), FXS_STATUS_NULL_POINTER);
        }
        fxs_owner_data_free(data);
    }
    fxs_daemon_config_free(cfg);
    fxs_daemon_config_free(NULL);
    fxs_daemon_summary_free(NULL);
    CHECK(strcmp(fxs_daemon_summary_text(NULL), "") == 0);
    CHECK(fxs_daemon_summary_get(NULL, "status") == NULL);
    CHECK_STATUS(fxs_daemon_run(NULL, &s), FXS_STATUS_NULL_POINTER);

    /* fxs_data_owner_share_part: its own checks come before anything is sent (the owner stays
       usable), then the shape frame and the shares. */
    {
        fxs_data_owner owner;
        fxs_data_owner_config oc;
        int fds[2][2];
        uint8_t byte;
        double x[4] = {1, 2, 3, 1e300}, y[2] = {0, 1};
        CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, fds[0]) == 0);
        CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, fds[1]) == 0);
        /* The servers' ends: a read that finds nothing fails at once. */
        CHECK(fcntl(fds[0][1], F_SETFL, O_NONBLOCK) == 0 && fcntl(fds[1][1], F_SETFL, O_NONBLOCK) == 0);
        CHECK_STATUS(fxs_data_owner_share_part(NULL, x, 2, 2, NULL), FXS_STATUS_NULL_POINTER);
        CHECK_OK(fxs_data_owner_config_init(&oc));
        random_seed(oc.seed);
        oc.server0 = socket_transport(&fds[0][0]);
        oc.server1 = socket_transport(&fds[1][0]);
        CHECK_OK(fxs_data_owner_init(&owner, &oc));
        CHECK_STATUS(fxs_data_owner_share_part(&owner, x, 2, 2, y), FXS_STATUS_OUT_OF_RANGE);
        CHECK_STATUS(fxs_data_owner_share_part(&owner, x, 2, 0, y), FXS_STATUS_INVALID_ARGUMENT);
        CHECK_STATUS(fxs_data_owner_share_part(&owner, x, SIZE_MAX, 2, y), FXS_STATUS_CAPACITY);
        CHECK_STATUS(fxs_data_owner_share_part(&owner, NULL, 2, 2, y), FXS_STATUS_NULL_POINTER);
        CHECK(recv(fds[0][1], &byte, 1, 0) < 0 && recv(fds[1][1], &byte, 1, 0) < 0);
        x[3] = 4;
        CHECK_OK(fxs_data_owner_share_part(&owner, x, 2, 2, y));
        CHECK(recv(fds[0][1], &byte, 1, 0) == 1 && recv(fds[1][1], &byte, 1, 0) == 1);
        fxs_data_owner_clear(&owner);
        close(fds[0][0]);
        close(fds[0][1]);
        close(fds[1][0]);
        close(fds[1][1]);
    }
}

/* ----- the deployment: daemons and C programs ----- */

static const char *GLM_JOB = "[job]\nkind = \"train_glm\"\nmodel = \"logistic\"\nsigmoid = \"piecewise\"\n"
                             "owners = 2\nepochs = %d\nbatch = 32\nlearning_rate = 0.1\n";

typedef struct {
    int dealer, s0, s1;
} ports;

/* Writes the five configuration files of a job of `epochs` epochs. */
static ports write_configs(int epochs) {
    ports p;
    char job[512], text[2048];
    const char *common = "session = \"fixshare-c-hosts\"\n[keys]\ndir = \"keys\"\n";
    const char *timeouts = "[timeouts]\nconnect_seconds = 60\nwait_seconds = 120\nread_seconds = 120\n";
    p.dealer = free_port();
    p.s0 = free_port();
    p.s1 = free_port();
    snprintf(job, sizeof job, GLM_JOB, epochs);
    snprintf(text, sizeof text, "role = \"dealer\"\nlisten = \"127.0.0.1:%d\"\n%s%s", p.dealer,
             common, timeouts);
    write_file("dealer.toml", text);
    snprintf(text, sizeof text,
             "role = \"server0\"\nlisten = \"127.0.0.1:%d\"\n%s[peers.dealer]\naddress = "
             "\"127.0.0.1:%d\"\n%s%s",
             p.s0, common, p.dealer, timeouts, job);
    write_file("server0.toml", text);
    snprintf(text, sizeof text,
             "role = \"server1\"\nlisten = \"127.0.0.1:%d\"\n%s[peers.server0]\naddress = "
             "\"127.0.0.1:%d\"\n[peers.dealer]\naddress = \"127.0.0.1:%d\"\n%s%s",
             p.s1, common, p.s0, p.dealer, timeouts, job);
    write_file("server1.toml", text);
    for (int k = 0; k < 2; k++) {
        char name[32];
        snprintf(text, sizeof text,
                 "role = \"owner\"\nindex = %d\n%s[peers.server0]\naddress = \"127.0.0.1:%d\"\n"
                 "[peers.server1]\naddress = \"127.0.0.1:%d\"\n%s%s%s",
                 k, common, p.s0, p.s1, timeouts, k == 0 ? "[results]\nmodel = \"model.toml\"\n" : "",
                 job);
        snprintf(name, sizeof name, "owner%d.toml", k);
        write_file(name, text);
    }
    return p;
}

typedef struct {
    pid_t dealer, s0, s1, o0, o1;
} procs;

static pid_t start(const char *who, char *const argv[]) {
    char out[512], err[512];
    snprintf(out, sizeof out, "%s/%s.out", dir, who);
    snprintf(err, sizeof err, "%s/%s.err", dir, who);
    return spawn(argv, out, err);
}

static pid_t start_daemon(const char *who, const char *command) {
    char cfg[512];
    char *argv[8];
    snprintf(cfg, sizeof cfg, "%s/%s.toml", dir, who);
    argv[0] = (char *)party_bin;
    argv[1] = (char *)command;
    argv[2] = (char *)"--config";
    argv[3] = cfg;
    argv[4] = NULL;
    if (strcmp(command, "owner") == 0) {
        argv[4] = (char *)"--data";
        argv[5] = (char *)csv;
        argv[6] = NULL;
    }
    return start(who, argv);
}

static pid_t start_c_server1(void) {
    char cfg[512];
    char *argv[4];
    snprintf(cfg, sizeof cfg, "%s/server1.toml", dir);
    argv[0] = (char *)"/proc/self/exe";
    argv[1] = (char *)"server1";
    argv[2] = cfg;
    argv[3] = NULL;
    return start("server1", argv);
}

static pid_t start_c_owner1(int s0_port) {
    char cfg[512], addr[64], keys[512];
    char *argv[7];
    snprintf(cfg, sizeof cfg, "%s/owner1.toml", dir);
    snprintf(addr, sizeof addr, "127.0.0.1:%d", s0_port);
    snprintf(keys, sizeof keys, "%s/keys", dir);
    argv[0] = (char *)"/proc/self/exe";
    argv[1] = (char *)"owner";
    argv[2] = cfg;
    argv[3] = (char *)csv;
    argv[4] = addr;
    argv[5] = keys;
    argv[6] = NULL;
    return start("owner1", argv);
}

static char *output(const char *who, const char *ext) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s.%s", dir, who, ext);
    return slurp(path);
}

static void show(const char *who) {
    char *out = output(who, "out"), *err = output(who, "err");
    fprintf(stderr, "---- %s: stdout\n%s---- %s: stderr (last 3000 bytes)\n%s\n", who, out, who,
            strlen(err) > 3000 ? err + strlen(err) - 3000 : err);
    free(out);
    free(err);
}

/* Waits until who's standard error contains needle (at most `seconds`). */
static int wait_for_log(const char *who, const char *needle, double seconds) {
    double until = now() + seconds;
    while (now() < until) {
        char *err = output(who, "err");
        int found = strstr(err, needle) != NULL;
        free(err);
        if (found) return 1;
        sleep_ms(50);
    }
    return 0;
}

/* The session ids of the files: the servers' and owners' bind the job, the dealer's does not. */
static void session_ids(void) {
    const char *names[] = {"server0", "server1", "owner0", "owner1"};
    uint8_t first[32], sid[32], plain[32];
    CHECK_OK(fxs_tls_session_id("fixshare-c-hosts", plain));
    for (int i = 0; i < 4; i++) {
        char path[512];
        fxs_daemon_config *cfg = NULL;
        snprintf(path, sizeof path, "%s/%s.toml", dir, names[i]);
        CHECK_OK(fxs_daemon_config_load(path, &cfg));
        CHECK_OK(fxs_daemon_config_session_id(cfg, i == 0 ? first : sid));
        if (i > 0) CHECK(memcmp(first, sid, 32) == 0);
        fxs_daemon_config_free(cfg);
    }
    CHECK(memcmp(first, plain, 32) != 0);
    {
        char path[512];
        fxs_daemon_config *cfg = NULL;
        uint32_t role = 99, party = 99;
        path_of(path, sizeof path, "dealer.toml");
        CHECK_OK(fxs_daemon_config_load(path, &cfg));
        CHECK_OK(fxs_daemon_config_session_id(cfg, sid));
        CHECK(memcmp(sid, plain, 32) == 0);
        CHECK_OK(fxs_daemon_config_role(cfg, &role, &party));
        CHECK(role == FXS_DAEMON_ROLE_DEALER && party == FXS_NET_PARTY_DEALER);
        fxs_daemon_config_free(cfg);
    }
}

/* With owner 1's key and the session name alone (not the job's id), server 0 refuses the
   hello; its listener logs it and goes on. */
static void wrong_session_at_server0(int s0_port) {
    fxs_tls_endpoint *ep = endpoint("owner1", FXS_NET_PARTY_OWNER0, "fixshare-c-hosts", NULL);
    char pin[FXS_TLS_PIN_LEN], addr[64];
    fxs_tls_conn *c = NULL;
    pin_of("server0", pin);
    addr_of(addr, sizeof addr, (uint16_t)s0_port);
    CHECK_STATUS(fxs_tls_connect(ep, addr, FXS_NET_PARTY_SERVER0, pin, &c), FXS_STATUS_HELLO);
    CHECK_MSG("session id mismatch");
    CHECK(c == NULL);
    fxs_tls_endpoint_free(ep);
}

static void deployment(void) {
    ports p = write_configs(3);
    procs pr;
    int st;
    char *o0, *o1, *s0, *s1, *d;
    double started = now();
    session_ids();
    pr.dealer = start_daemon("dealer", "run");
    pr.s0 = start_daemon("server0", "run");
    pr.s1 = start_c_server1();
    pr.o0 = start_daemon("owner0", "owner");
    wrong_session_at_server0(p.s0);
    pr.o1 = start_c_owner1(p.s0);
    st = wait_for(pr.o1, 300);
    CHECK(exited_with(st, 0));
    if (!exited_with(st, 0)) show("owner1");
    st = wait_for(pr.o0, 300);
    CHECK(exited_with(st, 0));
    if (!exited_with(st, 0)) show("owner0");
    st = wait_for(pr.s1, 120);
    CHECK(exited_with(st, 0));
    if (!exited_with(st, 0)) show("server1");
    st = wait_for(pr.s0, 120);
    CHECK(exited_with(st, 0));
    if (!exited_with(st, 0)) show("server0");
    st = wait_for(pr.dealer, 120);
    CHECK(exited_with(st, 0));
    if (!exited_with(st, 0)) show("dealer");
    printf("deployment: the job took %.1f s\n", now() - started);

    o0 = output("owner0", "out");
    o1 = output("owner1", "out");
    s0 = output("server0", "out");
    s1 = output("server1", "out");
    d = output("dealer", "out");
    {
        char v[128];
        double secure = number_of(o0, "secure_accuracy"), plain = number_of(o0, "plaintext_accuracy");
        double rel = number_of(o0, "weights_rel_rmse");
        printf("owner 0: secure_accuracy %.4f, plaintext_accuracy %.4f, weights_rel_rmse %.3e\n",
               secure, plain, rel);
        value_of(o0, "status", v, sizeof v);
        CHECK(strcmp(v, "ok") == 0);
        /* As net/tests/party.rs: the model within 1e-2 of the plaintext SGD's weights, the
           same accuracy within a point, and a model that learned. */
        CHECK(rel < 1e-2);
        CHECK(fabs(secure - plain) <= 0.01);
        CHECK(secure > 0.9);
        CHECK(number_of(o0, "rows_shared") + number_of(o1, "rows_shared") == 456);
        value_of(o1, "status", v, sizeof v);
        CHECK(strcmp(v, "ok") == 0);
        CHECK(number_of(o1, "columns_shared") == 30);
        /* Both servers, the C-hosted one included, trained on both owners' rows. */
        for (int i = 0; i < 2; i++) {
            const char *s = i == 0 ? s0 : s1;
            value_of(s, "status", v, sizeof v);
            CHECK(strcmp(v, "ok") == 0);
            CHECK(number_of(s, "rows") == 456 && number_of(s, "owners") == 2);
            CHECK(number_of(s, "epochs") == 3 && number_of(s, "rounds") > 0);
            CHECK(number_of(s, "online_bytes_sent") > 0);
        }
        value_of(s1, "role", v, sizeof v);
        CHECK(strcmp(v, "server1") == 0);
        value_of(s1, "fxs_status", v, sizeof v);
        CHECK(strcmp(v, "FXS_STATUS_OK") == 0);
        value_of(d, "status", v, sizeof v);
        CHECK(strcmp(v, "ok") == 0);
    }
    {
        /* Server 0's listener refused the wrong session and logged it; the C server logged
           its epochs with timestamps, as the daemon does. */
        char *e0 = output("server0", "err"), *e1 = output("server1", "err");
        CHECK(strstr(e0, "listener: rejected a connection") != NULL &&
              strstr(e0, "session id mismatch") != NULL);
        CHECK(strstr(e1, "server1: epoch 3/3") != NULL && strstr(e1, "Z server1: ") != NULL);
        free(e0);
        free(e1);
    }
    free(o0);
    free(o1);
    free(s0);
    free(s1);
    free(d);
}

/* Server 0 is killed during training: the C-hosted server 1 ends with FXS_STATUS_JOB_FAILED
   and a message naming server0, and every other process ends too (nothing hangs). */
static void server0_killed(void) {
    ports p = write_configs(200);
    procs pr;
    int st;
    char *s1;
    char v[1024];
    double started;
    pr.dealer = start_daemon("dealer", "run");
    pr.s0 = start_daemon("server0", "run");
    pr.s1 = start_c_server1();
    pr.o0 = start_daemon("owner0", "owner");
    pr.o1 = start_c_owner1(p.s0);
    CHECK(wait_for_log("server0", "epoch 1/200", 300));
    started = now();
    kill(pr.s0, SIGKILL);
    st = wait_for(pr.s0, 10);
    CHECK(st >= 0 && WIFSIGNALED(st));
    st = wait_for(pr.s1, 60);
    CHECK(exited_with(st, 1));
    s1 = output("server1", "out");
    value_of(s1, "fxs_status", v, sizeof v);
    CHECK(strcmp(v, "FXS_STATUS_JOB_FAILED") == 0);
    value_of(s1, "status", v, sizeof v);
    CHECK(strcmp(v, "failed") == 0);
    /* The message names the step and the peer whose connection ended without an orderly
       close: server 0 itself, or the dealer, which cut its connections when server 0 went
       away (which one server 1 sees first depends on whom it was waiting for). */
    value_of(s1, "message", v, sizeof v);
    printf("server 1 (C): %s\n", v);
    CHECK(strncmp(v, "fxs_daemon_run: training: ", 26) == 0);
    CHECK(strstr(v, "server0 at 127.0.0.1:") != NULL || strstr(v, "dealer at 127.0.0.1:") != NULL);
    CHECK(strstr(v, "ended without a TLS close_notify") != NULL || strstr(v, "was reset") != NULL);
    value_of(s1, "error", v, sizeof v);
    CHECK(strstr(v, "training: ") != NULL);
    if (!exited_with(st, 1)) show("server1");
    /* The others end with the daemon's exit status 1 (the C owner 1 had finished). */
    CHECK(exited_with(wait_for(pr.o0, 60), 1));
    CHECK(exited_with(wait_for(pr.dealer, 60), 1));
    CHECK(exited_with(wait_for(pr.o1, 60), 0));
    printf("server 0 killed: every process ended %.1f s later\n", now() - started);
    free(s1);
    (void)p;
}

/* ----- the C programs the deployment runs ----- */

/* Server 1 hosted in this process (item 3). */
static int main_server1(const char *config) {
    fxs_daemon_config *cfg = NULL;
    fxs_daemon_summary *s = NULL;
    fxs_status st;
    alarm(600);
    st = fxs_daemon_config_load(config, &cfg);
    if (st == FXS_STATUS_OK) st = fxs_daemon_run(cfg, &s);
    printf("%s", fxs_daemon_summary_text(s));
    printf("fxs_status: %s\n", fxs_status_name(st));
    if (st != FXS_STATUS_OK) printf("message: %s\n", fxs_last_error_message());
    /* The summary's values one by one, as a C service would read them. */
    if (s && fxs_daemon_summary_get(s, "status") == NULL) st = FXS_STATUS_INTERNAL;
    fxs_daemon_summary_free(s);
    fxs_daemon_config_free(cfg);
    return st == FXS_STATUS_OK ? 0 : 1;
}

/* A data owner in C (item 2; owner 1 of the deployment here, owner 2 of the cross-language test):
   its rows prepared by the daemon's code, its connection to server 0 made from its key `name`
   and the session id the daemon derives (fxs_tls_*), the one to server 1 as the
   daemon makes it (fxs_daemon_config_connect), the parts shared with fxs_data_owner. */
static int main_owner(const char *config, const char *data_path, const char *server0,
                      const char *keys, const char *name) {
    fxs_daemon_config *cfg = NULL;
    fxs_owner_data *data = NULL;
    fxs_owner_data_info info;
    fxs_tls_identity *id = NULL;
    fxs_tls_endpoint *ep = NULL;
    fxs_tls_conn *c0 = NULL, *c1 = NULL;
    fxs_data_owner owner;
    fxs_data_owner_config oc;
    double *model = NULL;
    uint8_t sid[32];
    uint32_t party = 0;
    char crt[600], key[600], pin[FXS_TLS_PIN_LEN];
    int initialised = 0;
    fxs_status st;
    alarm(600);
#define TRY(call)                               \
    do {                                        \
        if ((st = (call)) != FXS_STATUS_OK) goto out; \
    } while (0)
    TRY(fxs_daemon_config_load(config, &cfg));
    TRY(fxs_owner_data_prepare(cfg, data_path, &data)); /* every check before connecting */
    TRY(fxs_owner_data_get_info(data, &info));
    TRY(fxs_daemon_config_session_id(cfg, sid));
    TRY(fxs_daemon_config_role(cfg, NULL, &party));
    snprintf(crt, sizeof crt, "%s/%s.crt", keys, name);
    snprintf(key, sizeof key, "%s/%s.key", keys, name);
    TRY(fxs_tls_identity_load(crt, key, &id));
    TRY(fxs_tls_endpoint_new(id, party, sid, NULL, &ep));
    snprintf(crt, sizeof crt, "%s/server0.crt", keys);
    TRY(fxs_tls_pin_of_certificate(crt, pin, sizeof pin));
    TRY(fxs_tls_connect(ep, server0, FXS_NET_PARTY_SERVER0, pin, &c0));
    /* The servers take the rows once every owner is there, and answer after training. */
    TRY(fxs_tls_conn_set_timeouts(c0, 3600000, 3600000));
    TRY(fxs_daemon_config_connect(cfg, FXS_DAEMON_ROLE_SERVER1, &c1));
    TRY(fxs_data_owner_config_init(&oc));
    oc.ring_bits = info.ring_bits;
    oc.frac_bits = info.frac_bits;
    random_seed(oc.seed);
    TRY(fxs_tls_conn_transport(c0, &oc.server0));
    TRY(fxs_tls_conn_transport(c1, &oc.server1));
    TRY(fxs_data_owner_init(&owner, &oc));
    initialised = 1;
    for (size_t i = 0; i < info.parts; i++) {
        fxs_owner_part part;
        TRY(fxs_owner_data_part(data, i, &part));
        TRY(fxs_data_owner_share_part(&owner, part.x, part.rows, part.cols, part.y));
    }
    if (info.model_len > 0) {
        model = (double *)calloc(info.model_len, sizeof(double));
        if (!model) {
            st = FXS_STATUS_INTERNAL;
            goto out;
        }
        TRY(fxs_data_owner_reconstruct(&owner, model, info.model_len));
    }
    TRY(fxs_tls_conn_close(c0));
    TRY(fxs_tls_conn_close(c1));
out:
    if (st != FXS_STATUS_OK) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", fxs_last_error_message());
        printf("status: failed\nfxs_status: %s\nmessage: %s\n", fxs_status_name(st), msg);
    } else {
        printf("status: ok\nrows_shared: %zu\ncolumns_shared: %zu\nfxs_status: FXS_STATUS_OK\n",
               info.rows, info.cols);
    }
    if (initialised) fxs_data_owner_clear(&owner);
    free(model);
    fxs_tls_conn_free(c0); /* after a failure: cut without close_notify */
    fxs_tls_conn_free(c1);
    fxs_tls_endpoint_free(ep);
    fxs_tls_identity_free(id);
    fxs_owner_data_free(data);
    fxs_daemon_config_free(cfg);
    return st == FXS_STATUS_OK ? 0 : 1;
#undef TRY
}

int main(int argc, char **argv) {
    int jobs = !(argc > 1 && strcmp(argv[1], "--no-jobs") == 0);
    signal(SIGPIPE, SIG_IGN);
    if (argc == 3 && strcmp(argv[1], "server1") == 0) return main_server1(argv[2]);
    if ((argc == 6 || argc == 7) && strcmp(argv[1], "owner") == 0)
        return main_owner(argv[2], argv[3], argv[4], argv[5], argc == 7 ? argv[6] : "owner1");
    alarm(900); /* a hang is a failure */
    party_bin = getenv("FIXSHARE_PARTY_BIN");
    net_bin = getenv("FIXSHARE_NET_BIN");
    csv = getenv("FIXSHARE_CSV");
    if (!csv) csv = "examples/data/breast_cancer.csv";
    if (!party_bin || access(party_bin, X_OK) != 0 || !net_bin || access(net_bin, X_OK) != 0 ||
        access(csv, R_OK) != 0) {
        fprintf(stderr, "FIXSHARE_PARTY_BIN and FIXSHARE_NET_BIN must name the fixshare-party and "
                        "fixshare-net binaries (cargo build -p fixshare-net --release), and "
                        "FIXSHARE_CSV a readable breast_cancer.csv\n");
        printf("0 passed, 1 failed\n");
        return 1;
    }
    make_temp_dir(dir, sizeof dir, "fxs-hosts");
    {
        const char *names[] = {"p0", "p1", "dealer", "owner", "server0", "server1", "owner0", "owner1"};
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) keygen(names[i]);
        /* Configuration files name the dealer of a job by keys/dealer.crt: a job's own. */
    }
    arguments();
    refusals();
    c_to_c_over_tls();
    peer_leaves(1);
    peer_leaves(2);
    if (jobs) {
        deployment();
        server0_killed();
    }
    if (failed == 0)
        remove_dir(dir);
    else
        fprintf(stderr, "kept %s\n", dir);
    return report();
}
