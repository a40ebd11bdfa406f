// Secure dot product and ReLU of real numbers with the C++ wrapper (fixshare.hpp).
//
// Three processes on 127.0.0.1 over TCP: the dealer, party 0 (owns x) and party 1 (owns w).
// They compute x . w and ReLU(x * w) (elementwise) on secret shares and open the results.
// Run: ./dot_product_cpp   (forks the dealer and party 1; the parent is party 0).
// Exit status 0 when both parties' results match the plaintext reference.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <system_error>
#include <vector>

#include "fixshare.hpp"

namespace {

const std::vector<double> kX = {1.5, -2.25, 3.0, 0.5, -1.0, 7.125};  // party 0's features
const std::vector<double> kW = {0.2, 0.4, -1.5, 2.0, 3.25, 0.01};    // party 1's weights

// An owning TCP socket with blocking exact-length send/recv (a Stream for fxs::make_transport).
class Socket {
public:
    explicit Socket(int fd = -1) : fd_(fd) {}
    Socket(Socket &&o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Socket &operator=(Socket &&o) noexcept {
        std::swap(fd_, o.fd_);
        return *this;
    }
    Socket(const Socket &) = delete;
    Socket &operator=(const Socket &) = delete;
    ~Socket() {
        if (fd_ >= 0) ::close(fd_);
    }
    int fd() const { return fd_; }

    void send(const std::uint8_t *buf, std::size_t len) {
        while (len > 0) {
            ssize_t n = ::send(fd_, buf, len, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) throw fxs::Closed();
            if (n < 0) throw std::system_error(errno, std::generic_category(), "send");
            buf += n;
            len -= static_cast<std::size_t>(n);
        }
    }
    void recv(std::uint8_t *buf, std::size_t len) {
        while (len > 0) {
            ssize_t n = ::recv(fd_, buf, len, 0);
            if (n == 0) throw fxs::Closed();
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw std::system_error(errno, std::generic_category(), "recv");
            buf += n;
            len -= static_cast<std::size_t>(n);
        }
    }

    static Socket listen_local(unsigned short &port) {
        Socket s(::socket(AF_INET, SOCK_STREAM, 0));
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (s.fd_ < 0 || ::bind(s.fd_, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 ||
            ::listen(s.fd_, 4) != 0 ||
            ::getsockname(s.fd_, reinterpret_cast<sockaddr *>(&a), &len) != 0)
            throw std::system_error(errno, std::generic_category(), "listen");
        port = ntohs(a.sin_port);
        return s;
    }
    Socket accept() const {
        Socket c(::accept(fd_, nullptr, nullptr));
        if (c.fd_ < 0) throw std::system_error(errno, std::generic_category(), "accept");
        c.no_delay();
        return c;
    }
    static Socket connect_local(unsigned short port) {
        Socket s(::socket(AF_INET, SOCK_STREAM, 0));
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(port);
        if (s.fd_ < 0 || ::connect(s.fd_, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0)
            throw std::system_error(errno, std::generic_category(), "connect");
        s.no_delay();
        return s;
    }

private:
    void no_delay() {
        int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    int fd_;
};

void random_seed(std::uint8_t (&seed)[32]) {
    std::ifstream urandom("/dev/urandom", std::ios::binary);
    if (!urandom.read(reinterpret_cast<char *>(seed), sizeof seed))
        throw std::runtime_error("cannot read /dev/urandom");
}

int run_dealer(const Socket &listener) {
    Socket conns[2];
    for (int i = 0; i < 2; i++) {
        Socket c = listener.accept();
        std::uint8_t role = 0;
        c.recv(&role, 1);
        if (role > 1) throw std::runtime_error("bad role");
        conns[role] = std::move(c);
    }
    std::uint8_t seed[32];
    random_seed(seed);
    fxs::dealer_serve(seed, fxs::make_transport(conns[0]), fxs::make_transport(conns[1]));
    return 0;
}

int run_party(std::uint32_t role, unsigned short dealer_port, const Socket *peer_listener,
              unsigned short peer_port) {
    Socket dealer = Socket::connect_local(dealer_port);
    std::uint8_t hello = static_cast<std::uint8_t>(role);
    dealer.send(&hello, 1);
    Socket peer = role == FXS_ROLE_P0 ? peer_listener->accept() : Socket::connect_local(peer_port);

    fxs_party_config cfg = fxs::Party::default_config();
    cfg.role = role;
    cfg.frac_bits = 20;
    random_seed(cfg.seed);
    cfg.peer = fxs::make_transport(peer);
    cfg.dealer = fxs::make_transport(dealer);
    double result = 0;
    std::vector<double> relu;
    {
        // The party is destroyed before the sockets (declared earlier) are closed.
        fxs::Party party(cfg);
        const std::size_t n = kX.size();
        fxs::Shares x = role == FXS_ROLE_P0 ? party.share_input(kX) : party.receive_input(n);
        fxs::Shares w = role == FXS_ROLE_P1 ? party.share_input(kW) : party.receive_input(n);
        result = party.reveal(party.dot(x, w)).at(0);
        relu = party.reveal(party.relu(party.mul(x, w)));
    }
    double plain = 0, worst = 0;
    for (std::size_t i = 0; i < kX.size(); i++) plain += kX[i] * kW[i];
    std::printf("party %u (C++): secure dot product = %.6f, plaintext = %.6f\n",
                static_cast<unsigned>(role), result, plain);
    std::printf("party %u (C++): secure ReLU(x*w) = [", static_cast<unsigned>(role));
    for (std::size_t i = 0; i < relu.size(); i++) std::printf(i ? " %.3f" : "%.3f", relu[i]);
    std::printf("], plaintext = [");
    for (std::size_t i = 0; i < kX.size(); i++) {
        double p = kX[i] * kW[i] > 0 ? kX[i] * kW[i] : 0.0;
        std::printf(i ? " %.3f" : "%.3f", p);
        worst = std::fmax(worst, std::fabs(relu.at(i) - p));
    }
    std::printf("]\n");
    return std::fabs(result - plain) <= 1e-3 && worst <= 1e-3 ? 0 : 1;
}

// Runs f in this process, turning exceptions into a message and exit status 1.
template <class F>
int guarded(const char *who, F &&f) {
    int rc = 1;
    try {
        rc = f();
    } catch (const std::exception &e) {
        std::fprintf(stderr, "%s: %s\n", who, e.what());
    }
    std::fflush(stdout);  // children leave with _Exit, which does not flush
    return rc;
}

bool wait_ok(pid_t pid) {
    int st = 0;
    return waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

}  // namespace

int main() {
    unsigned short dealer_port = 0, peer_port = 0;
    Socket dealer_l = Socket::listen_local(dealer_port);
    Socket peer_l = Socket::listen_local(peer_port);
    std::fflush(stdout);
    pid_t dealer = fork();
    if (dealer < 0) return 2;
    if (dealer == 0) std::_Exit(guarded("dealer", [&] { return run_dealer(dealer_l); }));
    pid_t p1 = fork();
    if (p1 < 0) return 2;
    if (p1 == 0) {
        std::_Exit(guarded("party 1", [&] {
            return run_party(FXS_ROLE_P1, dealer_port, nullptr, peer_port);
        }));
    }
    int rc = guarded("party 0", [&] {
        return run_party(FXS_ROLE_P0, dealer_port, &peer_l, peer_port);
    });
    bool ok = wait_ok(p1);
    ok = wait_ok(dealer) && ok;
    if (rc != 0 || !ok) return 1;
    std::printf("ok\n");
    return 0;
}
