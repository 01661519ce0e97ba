# [judge0 CVE-2024-29021; piston tests/network.py; sandbox-anchors #42-#44] Reach the test's TCP
# listener on 127.0.0.1:<port> (port on stdin), the internet, the metadata address, an abstract
# unix socket the test listens on in the host's network namespace, and bind 127.0.0.1 itself.
import errno, socket, sys
port, abstract = sys.stdin.read().split()
def name(e):
    return errno.errorcode.get(e.errno, str(e.errno)) if isinstance(e, OSError) and e.errno else type(e).__name__
for label, fam, addr in [("tcp-host-listener", socket.AF_INET, ("127.0.0.1", int(port))),
                         ("tcp6-host-listener", socket.AF_INET6, ("::1", int(port))),
                         ("internet", socket.AF_INET, ("1.1.1.1", 80)),
                         ("metadata", socket.AF_INET, ("169.254.169.254", 80))]:
    try:
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(1)
        s.connect(addr)
        print(label, "CONNECTED")
    except OSError as e:
        print(label, name(e))
for label, fam, typ in [("udp", socket.AF_INET, socket.SOCK_DGRAM), ("netlink", socket.AF_NETLINK, socket.SOCK_RAW),
                        ("packet", socket.AF_PACKET, socket.SOCK_RAW), ("vsock", 40, socket.SOCK_STREAM)]:
    try:
        socket.socket(fam, typ)
        print(label, "CREATED")
    except OSError as e:
        print(label, name(e))
try:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", int(port)))
    print("bind-loopback BOUND")
except OSError as e:
    print("bind-loopback", name(e))
try:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(1)
    s.connect("\0" + abstract)
    print("abstract-host-listener CONNECTED")
except OSError as e:
    print("abstract-host-listener", name(e))
