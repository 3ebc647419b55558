# Run in a sandbox with a volume at /data: tries to reach AF_UNIX sockets of the host (an
# abstract name, a socket file in the volume, a path outside every mount), then binds a socket of
# its own in the volume and says so, so the test can try to connect to it from the host.
import os, socket, stat, sys, time

def attempt(name, addr, kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_UNIX, kind)
    try:
        if kind == socket.SOCK_STREAM:
            s.connect(addr)
        else:
            s.sendto(b'x', addr)
        print(name, 'reached')
    except OSError as e:
        print(name, os.strerror(e.errno))
    s.close()

abstract, outside = sys.argv[1], sys.argv[2]
attempt('abstract', '\0' + abstract)
attempt('abstract dgram', '\0' + abstract, socket.SOCK_DGRAM)
print('volume socket file is a socket', stat.S_ISSOCK(os.stat('/data/host.sock').st_mode))
attempt('volume socket', '/data/host.sock')
attempt('volume socket dgram', '/data/host.sock', socket.SOCK_DGRAM)
attempt('outside path', outside)
# A socket of the sandbox in the volume: reachable inside, not from the host.
s = socket.socket(socket.AF_UNIX)
s.bind('/data/sandbox.sock')
s.listen()
c = socket.socket(socket.AF_UNIX)
c.connect('/data/sandbox.sock')
a, _ = s.accept()
c.send(b'inside')
print('own socket in the volume', a.recv(6).decode())
print('bound', flush=True)
time.sleep(float(sys.argv[3]))
