"""A small internet in network namespaces, for the routes tests and the
routes benchmark. Needs root, and runs inside the namespace `tests/netns.sh`
made, so nothing it does can leave the machine.

    LAN 10.201.14.0/24 (bridge)          WAN 203.0.113.0/24 (bridge)
    robot   .2  ─┐                    ┌─ router  .2 (NATs the LAN)
    client  .3  ─┼─ .1 router ── wan0 ┼─ inet    .10 (rendezvous :80, coturn :3478)
    part    .4  ─┘                    ├─ rrouter .3 (NATs the remote side)
                                      └─ this namespace .1 (the tests' own view)
    remote 192.168.77.2 ── 192.168.77.1 rrouter

Every namespace but `inet` resolves `rover.axle` (and `arm.axle`) to the
rendezvous, through /etc/netns/<name>/hosts, which `ip netns exec` mounts
over /etc/hosts. Everything is named with a per-process tag and torn down
by name: namespaces, bridges, the /etc/netns entries, coturn by pid.
"""

import os
import pathlib
import shutil
import subprocess
import time

RENDEZVOUS_IP = "203.0.113.10"
LAN = "10.201.14"
HOSTS = ("rover.axle", "arm.axle")


def ip(*args, check=True):
    return subprocess.run(["ip", *args], check=check, capture_output=True, text=True)


class Internet:
    def __init__(self, workdir: pathlib.Path):
        self.workdir = workdir
        self.tag = f"ai{os.getpid() % 100000}"
        self.names = {n: f"{self.tag}-{n}" for n in ("robot", "client", "part", "router", "inet", "rrouter", "remote")}
        self.bridges = [f"{self.tag}-lan", f"{self.tag}-wan"]
        self.coturn = None
        try:
            self._build()
        except Exception:
            self.close()
            raise

    def wrap(self, name):
        """The command prefix that runs a program in namespace `name`."""
        return ["ip", "netns", "exec", self.names[name]]

    def run(self, name, *cmd, check=True, input=None):
        return subprocess.run([*self.wrap(name), *cmd], check=check, capture_output=True, text=True, input=input)

    def nft(self, name, ruleset):
        self.run(name, "nft", "-f", "-", input=ruleset)

    def _veth(self, name, ifname, bridge, address, default=None):
        ns = self.names[name]
        outer = f"{self.tag}-{name[:3]}{ifname[0]}"
        ip("link", "add", outer, "type", "veth", "peer", "name", ifname, "netns", ns)
        ip("link", "set", outer, "master", bridge, "up")
        ip("-n", ns, "link", "set", ifname, "up")
        ip("-n", ns, "addr", "add", address, "dev", ifname)
        if default:
            ip("-n", ns, "route", "add", "default", "via", default)

    def _build(self):
        for b in self.bridges:
            ip("link", "add", b, "type", "bridge")
            ip("link", "set", b, "up")
        lan, wan = self.bridges
        ip("addr", "add", "203.0.113.1/24", "dev", wan)
        for ns in self.names.values():
            ip("netns", "add", ns)
            ip("-n", ns, "link", "set", "lo", "up")
        self._veth("robot", "eth0", lan, f"{LAN}.2/24", f"{LAN}.1")
        self._veth("client", "eth0", lan, f"{LAN}.3/24", f"{LAN}.1")
        self._veth("part", "eth0", lan, f"{LAN}.4/24", f"{LAN}.1")
        self._veth("router", "lan0", lan, f"{LAN}.1/24")
        self._veth("router", "wan0", wan, "203.0.113.2/24")
        self._veth("inet", "eth0", wan, f"{RENDEZVOUS_IP}/24")
        self._veth("rrouter", "wan0", wan, "203.0.113.3/24")
        # The remote client's own LAN: one cable to its router.
        rr, remote = self.names["rrouter"], self.names["remote"]
        ip("-n", rr, "link", "add", "lan0", "type", "veth", "peer", "name", "eth0", "netns", remote)
        ip("-n", rr, "link", "set", "lan0", "up")
        ip("-n", rr, "addr", "add", "192.168.77.1/24", "dev", "lan0")
        ip("-n", remote, "link", "set", "eth0", "up")
        ip("-n", remote, "addr", "add", "192.168.77.2/24", "dev", "eth0")
        ip("-n", remote, "route", "add", "default", "via", "192.168.77.1")
        for router in ("router", "rrouter"):
            self.run(router, "sysctl", "-qw", "net.ipv4.ip_forward=1")
            # A home router: NAT out, and unsolicited packets in are dropped.
            # Dropped before conntrack confirms them, they leave no entry
            # behind that would make the NAT pick another port for the
            # LAN's own later packets to the same peer (hole punching).
            rules = ('table ip nat {\n chain post {\n  type nat hook postrouting priority 100;\n'
                     '  oifname "wan0" masquerade\n }\n}\n'
                     'table ip filter {\n chain input {\n  type filter hook input priority 0;\n'
                     '  iifname "wan0" ct state new drop\n }\n}\n')
            self.nft(router, rules)
        for name in ("robot", "client", "part", "remote", "router", "rrouter"):
            d = pathlib.Path("/etc/netns") / self.names[name]
            d.mkdir(parents=True, exist_ok=True)
            lines = ["127.0.0.1 localhost", *(f"{RENDEZVOUS_IP} {h}" for h in HOSTS)]
            (d / "hosts").write_text("\n".join(lines) + "\n")

    def start_coturn(self, secret):
        log = open(self.workdir / "coturn.log", "w")
        cmd = [*self.wrap("inet"), "turnserver", "-n", "--no-cli", "--no-tls", "--no-dtls",
               f"--listening-ip={RENDEZVOUS_IP}", f"--relay-ip={RENDEZVOUS_IP}", "--listening-port=3478",
               "--use-auth-secret", f"--static-auth-secret={secret}", "--realm=axle.test",
               "--min-port=49152", "--max-port=49999", "--log-file=stdout", "--simple-log",
               f"--pidfile={self.workdir / 'coturn.pid'}"]
        self.coturn = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while f"{RENDEZVOUS_IP}:3478" not in self.run("inet", "ss", "-Hlun").stdout:
            assert self.coturn.poll() is None, (self.workdir / "coturn.log").read_text()
            assert time.monotonic() < deadline, "coturn did not start"
            time.sleep(0.05)
        return self.coturn

    def uplink(self, up):
        """The LAN's router gains or loses its uplink (the robot's internet)."""
        self.run("router", "ip", "link", "set", "wan0", "up" if up else "down")

    def isolate(self, name, isolated):
        """Cuts namespace `name` off the LAN (mDNS and UDP to LAN hosts), or
        joins it again: only routes through the internet are left."""
        if isolated:
            self.nft(name, "table inet isolated {\n chain out {\n  type filter hook output priority 0;\n"
                           "  udp dport 5353 drop\n"
                           f"  ip daddr {LAN}.0/24 meta l4proto udp drop\n }}\n}}\n")
        else:
            self.run(name, "nft", "delete table inet isolated", check=False)

    def close(self):
        if self.coturn and self.coturn.poll() is None:
            self.coturn.kill()
            self.coturn.wait()
        for ns in self.names.values():
            # Whatever still runs in a namespace goes with it.
            pids = ip("netns", "pids", ns, check=False).stdout.split()
            for pid in pids:
                subprocess.run(["kill", "-9", pid], capture_output=True)
            ip("netns", "del", ns, check=False)
            shutil.rmtree(pathlib.Path("/etc/netns") / ns, ignore_errors=True)
        for b in self.bridges:
            ip("link", "del", b, check=False)
