# Run in network mode `host`: a TCP and a UDP echo server on the host's 127.0.0.1 (ports chosen
# by the host kernel, printed), serving one client each, reporting what they saw.
import socket, sys

t = socket.socket()
t.bind(('127.0.0.1', 0))
t.listen(1)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(('127.0.0.1', 0))
print('ready', t.getsockname()[1], u.getsockname()[1], flush=True)
c, peer = t.accept()
n = 0
while True:
    b = c.recv(65536)
    if not b:
        break
    n += len(b)
    c.sendall(b)
c.close()
print('tcp client from', peer[0], 'sent', n, flush=True)
data, peer = u.recvfrom(100)
u.sendto(data.upper(), peer)
print('udp client from', peer[0], data, flush=True)
