# Run in network mode `host`: reaches the test's servers on 127.0.0.1:PORT directly (the sockets
# are the host's), checks that a closed port is refused, and that the peer and local addresses
# are the host's loopback ones.
import socket, sys

tcp_port, udp_port, closed_port = map(int, sys.argv[1:4])
c = socket.create_connection(('127.0.0.1', tcp_port), timeout=20)
print('tcp peer', c.getpeername() == ('127.0.0.1', tcp_port), c.getsockname()[0])
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
print('TCP_NODELAY', c.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0)
blob = bytes(range(256)) * 1024
c.sendall(blob)
c.shutdown(socket.SHUT_WR)
got = b''
while True:
    b = c.recv(65536)
    if not b:
        break
    got += b
print('tcp echo of 256 KiB', got == blob)
c.close()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(20)
u.sendto(b'udp ping', ('127.0.0.1', udp_port))
data, peer = u.recvfrom(100)
print('udp reply', data, peer == ('127.0.0.1', udp_port))
try:
    socket.create_connection(('127.0.0.1', closed_port), timeout=20)
    print('closed port refused', False)
except ConnectionRefusedError:
    print('closed port refused', True)

# epoll (asyncio's selector) over host sockets: a server and 20 clients in one event loop.
import asyncio
async def many():
    srv = await asyncio.start_server(lambda r, w: (w.write(b'pong'), w.close()), '127.0.0.1', 0)
    port = srv.sockets[0].getsockname()[1]
    async def one():
        r, w = await asyncio.open_connection('127.0.0.1', port)
        d = await r.read(10)
        w.close()
        return d
    got = await asyncio.gather(*[one() for _ in range(20)])
    srv.close()
    return got
print('asyncio clients', len(set(asyncio.run(many()))) == 1)
