# Run by tests/net.rs as init (busybox sh): network tools in a net container.
mkdir -p /proc /tmp
mount -t proc proc /proc
unshare -n sh -c '
ifconfig veth0 192.168.7.2 netmask 255.255.255.0 up && echo "bb: ifconfig set"
ifconfig | grep -q "inet addr:192.168.7.2" && echo "bb: ifconfig shows veth0"
ifconfig eth0 >/dev/null 2>&1 || echo "bb: no eth0"
route -n | grep -q "^192.168.7.0" && echo "bb: route"
ip link | grep -q "2: veth0@if[0-9]*: <BROADCAST,MULTICAST,UP,LOWER_UP" && echo "bb: ip link"
ip link | grep -q ": eth0:" || echo "bb: ip link has no eth0"
ip addr | grep -q "inet 192.168.7.2/24 scope global veth0" && echo "bb: ip addr"
ping -c 1 127.0.0.1 | grep -q "1 packets received" && echo "bb: ping"
nc -l -p 9000 > /tmp/got &
sleep 1
echo hello | nc 127.0.0.1 9000
sleep 1
grep -q hello /tmp/got && echo "bb: nc"
ip addr add 10.1.0.1/24 dev veth0 && echo "bb: ip addr add"
ip link set veth0 down && ip link set veth0 up && echo "bb: ip link set up"
ip route add default via 10.1.0.2 && echo "bb: ip route add"
ip route | grep -q "^default via 10.1.0.2 dev veth0" && echo "bb: ip route shows the default"
ip route | grep -q "^10.1.0.0/24 dev veth0 scope link  src 10.1.0.1" && echo "bb: ip route shows the subnet"
ip addr | grep -q "inet 10.1.0.1/24 scope global veth0" && echo "bb: ip addr shows 10.1.0.1"
ip route get 10.9.9.9 | grep -q "^10.9.9.9 via 10.1.0.2 dev veth0  src 10.1.0.1" && echo "bb: ip route get"
ip route add default via 10.1.0.2 2>&1 | grep -q "File exists" && echo "bb: ip route add twice"
ip link set veth0 mtu 1400 && ip link | grep -q "veth0@.* mtu 1400" && echo "bb: ip link set mtu"
ip link add v1 type veth && ip link | grep -q "v1@veth[0-9]*: <BROADCAST,MULTICAST" && echo "bb: ip link add veth"
ip link delete v1 && ! ip link | grep -q "v1@" && echo "bb: ip link delete"
'
ifconfig eth0 | grep -q "inet addr:10.0.2.15" && echo "bb: root eth0"
echo "bb: done"
