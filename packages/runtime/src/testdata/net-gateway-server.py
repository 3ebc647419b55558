# Run in network mode `sandbox` with -p forwards: a TCP and a UDP echo server on the sandbox's
# ports argv[1] and argv[2], serving one client each, reporting what they saw.
import socket, sys

tcp_port, udp_port = int(sys.argv[1]), int(sys.argv[2])
t = socket.socket()
t.bind(('0.0.0.0', tcp_port))
t.listen(1)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(('0.0.0.0', udp_port))
print('ready', flush=True)
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
