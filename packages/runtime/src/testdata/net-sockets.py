# Socket servers and clients in two processes each (a forked server, the client in the parent),
# run natively and under tsvisor: every line it prints must match.
import hashlib, os, socket, sys

def fork_server(serve):
    pid = os.fork()
    if pid == 0:
        try:
            serve()
        finally:
            os._exit(0)
    return pid

def reap(pid):
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)

BLOB = bytes((i * 7919) % 251 for i in range(1 << 20))

# TCP: a 1 MiB upload echoed back with its SHA-256, then a half-close.
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(('127.0.0.1', 0))
srv.listen(4)
port = srv.getsockname()[1]
def tcp_serve():
    c, peer = srv.accept()
    h = hashlib.sha256()
    n = 0
    while True:
        b = c.recv(65536)
        if not b:
            break
        h.update(b)
        n += len(b)
    c.sendall(f'{n} {h.hexdigest()}'.encode())
    c.close()
pid = fork_server(tcp_serve)
srv.close()
c = socket.create_connection(('127.0.0.1', port))
c.sendall(BLOB)
c.shutdown(socket.SHUT_WR)
reply = b''
while True:
    b = c.recv(4096)
    if not b:
        break
    reply += b
c.close()
print('tcp', reply.decode() == f'{len(BLOB)} {hashlib.sha256(BLOB).hexdigest()}', reap(pid))

# TCP over IPv6 loopback, and a refused connection.
srv = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
srv.bind(('::1', 0))
srv.listen(1)
port6 = srv.getsockname()[1]
def tcp6_serve():
    c, peer = srv.accept()
    c.sendall(b'hello ' + peer[0].encode())
    c.close()
pid = fork_server(tcp6_serve)
srv.close()
c = socket.create_connection(('::1', port6))
print('tcp6', c.recv(100).decode(), reap(pid))
c.close()
try:
    socket.create_connection(('127.0.0.1', port))
    print('refused', False)
except ConnectionRefusedError:
    print('refused', True)

# UDP echo between two processes.
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(('127.0.0.1', 0))
def udp_serve():
    for _ in range(3):
        data, peer = u.recvfrom(2048)
        u.sendto(data[::-1], peer)
pid = fork_server(udp_serve)
v = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
v.settimeout(10)
got = []
for word in (b'alpha', b'beta', b'x' * 1400):
    v.sendto(word, u.getsockname())
    got.append(v.recvfrom(2048)[0] == word[::-1])
print('udp', got, reap(pid))
u.close()
v.close()

# Unix stream server on a path, and a datagram pair on an abstract name.
path = '/tmp/net-sockets.sock'
if os.path.exists(path):
    os.unlink(path)
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
def unix_serve():
    c, _ = srv.accept()
    c.sendall(c.recv(100).upper())
    c.close()
pid = fork_server(unix_serve)
srv.close()
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
c.connect(path)
c.sendall(b'unix stream')
print('unix', c.recv(100).decode(), reap(pid), os.path.exists(path))
c.close()
os.unlink(path)
d = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
d.bind('\0net-sockets-abstract')
e = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
e.sendto(b'abstract datagram', '\0net-sockets-abstract')
print('unix dgram', d.recv(100).decode())

# SCM_RIGHTS: the child gets a pipe's write end over a socketpair and writes through it.
a, b = socket.socketpair()
r, w = os.pipe()
def fd_serve():
    msg, fds, flags, addr = socket.recv_fds(b, 100, 4)
    os.write(fds[0], b'written through ' + msg)
pid = fork_server(fd_serve)
socket.send_fds(a, [b'a passed fd'], [w])
os.close(w)
print('fd passing', os.read(r, 100).decode(), reap(pid))
print('done')
