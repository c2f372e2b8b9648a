/* http_server.c — a tiny HTTP/1.0 file server for tests/test_data.sh.
 *
 * usage: http_server DIR PORTFILE
 * Listens on 127.0.0.1 on an ephemeral port (written to PORTFILE), serves
 * GET /NAME from DIR/NAME (200) or 404, one connection at a time.  A path
 * /short/NAME serves DIR/NAME but announces 1000 more bytes than it sends,
 * then closes: a transfer cut short.  Exits after 300 s in case the test
 * script dies without stopping it.  Not part of libdale; built by the test.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static void serve(int c, const char *dir)
{
    char req[2048];
    size_t n = 0;
    while (n < sizeof req - 1) {
        ssize_t r = read(c, req + n, sizeof req - 1 - n);
        if (r <= 0) break;
        n += (size_t)r;
        req[n] = '\0';
        if (strstr(req, "\r\n\r\n")) break;
    }
    req[n] = '\0';
    char path[1024] = "";
    if (sscanf(req, "GET %1000s", path) != 1 || strstr(path, "..")) path[0] = '\0';
    int shorten = !strncmp(path, "/short/", 7);
    char file[2200];
    snprintf(file, sizeof file, "%s/%s", dir, shorten ? path + 7 : path + 1);
    FILE *f = path[0] ? fopen(file, "rb") : NULL;
    struct stat sb;
    if (!f || fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        const char *msg = "HTTP/1.0 404 Not Found\r\nContent-Length: 10\r\nConnection: close\r\n\r\nnot found\n";
        if (write(c, msg, strlen(msg)) < 0) perror("write");
        if (f) fclose(f);
        return;
    }
    char hdr[256];
    int h = snprintf(hdr, sizeof hdr,
                     "HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %lld\r\n"
                     "Connection: close\r\n\r\n",
                     (long long)sb.st_size + (shorten ? 1000 : 0));
    if (write(c, hdr, (size_t)h) < 0) perror("write");
    char buf[1 << 15];
    size_t r;
    while ((r = fread(buf, 1, sizeof buf, f)) > 0)
        if (write(c, buf, r) < 0) break;
    fclose(f);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: http_server DIR PORTFILE\n");
        return 2;
    }
    alarm(300);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 8) != 0 ||
        getsockname(s, (struct sockaddr *)&a, &len) != 0) {
        perror("http_server");
        return 1;
    }
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", argv[2]);
    FILE *pf = fopen(tmp, "w");
    if (!pf) return 1;
    fprintf(pf, "%d\n", ntohs(a.sin_port));
    fclose(pf);
    rename(tmp, argv[2]);
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0) continue;
        serve(c, argv[1]);
        shutdown(c, SHUT_RDWR);
        close(c);
    }
}
