# Run by tests/net.rs as init (busybox sh): network tools in a net container.
mkdir -p /proc /tmp
mount -t proc proc /proc
unshare -n sh -c '
ifconfig veth0 192.168.7.2 netmask 255.255.255.0 up && echo "bb: ifconfig set"
ifconfig | grep -q "inet addr:192.168.7.2" && echo "bb: ifconfig shows veth0"
ifconfig eth0 >/dev/null 2>&1 || echo "bb: no eth0"
route -n | grep -q "^192.168.7.0" && echo "bb: route"
ip link | grep -q "2: veth0: <BROADCAST,MULTICAST,UP>" && echo "bb: ip link"
ip link | grep -q ": eth0:" || echo "bb: ip link has no eth0"
ip addr | grep -q "inet 192.168.7.2/24 scope global veth0" && echo "bb: ip addr"
ping -c 1 127.0.0.1 | grep -q "1 packets received" && echo "bb: ping"
nc -l -p 9000 > /tmp/got &
sleep 1
echo hello | nc 127.0.0.1 9000
sleep 1
grep -q hello /tmp/got && echo "bb: nc"
'
ifconfig eth0 | grep -q "inet addr:10.0.2.15" && echo "bb: root eth0"
echo "bb: done"
