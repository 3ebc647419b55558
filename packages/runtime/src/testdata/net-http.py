# Starts `python3.11 -m http.server` on 127.0.0.1 serving this script's directory, fetches a file
# and the directory listing with urllib, then stops the server.
import os, subprocess, sys, time, urllib.request

here = os.path.dirname(os.path.abspath(__file__))
port = int(sys.argv[1])
server = subprocess.Popen(
    [sys.executable, '-m', 'http.server', str(port), '--bind', '127.0.0.1', '--directory', here],
    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    for _ in range(200):
        try:
            body = urllib.request.urlopen(f'http://127.0.0.1:{port}/net-http.py', timeout=10).read()
            break
        except OSError:
            time.sleep(0.05)
    else:
        sys.exit('the server never answered')
    print('file', body == open(__file__, 'rb').read())
    listing = urllib.request.urlopen(f'http://127.0.0.1:{port}/', timeout=10).read().decode()
    print('listing', 'net-http.py' in listing)
    try:
        urllib.request.urlopen(f'http://127.0.0.1:{port}/missing', timeout=10)
    except urllib.error.HTTPError as e:
        print('missing', e.code)
finally:
    server.terminate()
    print('server exit', server.wait())
