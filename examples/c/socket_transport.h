/*
 * Blocking POSIX socket callbacks for fxs_transport, shared by the C examples and tests.
 * user_data points to an int holding a connected stream socket.
 */
#ifndef FIXSHARE_EXAMPLE_SOCKET_TRANSPORT_H
#define FIXSHARE_EXAMPLE_SOCKET_TRANSPORT_H

#include <errno.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "fixshare.h"

/* Sends all of buf; a peer that went away is FXS_IO_CLOSED, any other failure -errno. */
static int socket_send(void *user_data, const uint8_t *buf, size_t len) {
    int fd = *(const int *)user_data;
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            return (errno == EPIPE || errno == ECONNRESET) ? FXS_IO_CLOSED : -errno;
        }
        buf += n;
        len -= (size_t)n;
    }
    return FXS_IO_OK;
}

/* Receives exactly len bytes; end of stream is FXS_IO_CLOSED. */
static int socket_recv(void *user_data, uint8_t *buf, size_t len) {
    int fd = *(const int *)user_data;
    while (len > 0) {
        ssize_t n = recv(fd, buf, len, 0);
        if (n == 0) return FXS_IO_CLOSED;
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno == ECONNRESET ? FXS_IO_CLOSED : -errno;
        }
        buf += n;
        len -= (size_t)n;
    }
    return FXS_IO_OK;
}

/* A transport over the socket *fd (fd must outlive every object using the transport). */
static fxs_transport socket_transport(int *fd) {
    fxs_transport t;
    t.send = socket_send;
    t.recv = socket_recv;
    t.flush = NULL; /* send() does not buffer in user space */
    t.user_data = fd;
    return t;
}

#endif
