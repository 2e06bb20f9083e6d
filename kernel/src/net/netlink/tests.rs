//! Host tests of rtnetlink: requests built as iproute2 builds them, run through
//! [`handle`] on a stack of their own.

use super::*;
use crate::net::AF_INET;

fn msg(ty: u16, flags: u16, fixed: &[u8], attrs: &[(u16, &[u8])]) -> Vec<u8> {
    let mut m = Out::default();
    m.begin(ty, NLM_F_REQUEST | flags, 9, 0);
    m.put(fixed);
    m.pad();
    for (t, d) in attrs {
        m.attr(*t, d);
    }
    m.end();
    m.finish().expect("request")
}

fn run(net: &Arc<NetContainer>, stack: &Arc<NetStack>, req: &[u8]) -> Result<Vec<u8>, Errno> {
    let cx = Ctx {
        net,
        stack,
        seq: 9,
        port: 5,
        flags: u16_at(req, 6),
        body: &req[16..],
    };
    handle(u16_at(req, 4), &cx)
}

fn ifaddr(family: u8, prefix: u8, index: u32) -> [u8; 8] {
    let mut b = [0u8; 8];
    b[0] = family;
    b[1] = prefix;
    b[4..].copy_from_slice(&index.to_le_bytes());
    b
}

fn rtmsg(prefix: u8) -> [u8; 12] {
    [AF_INET as u8, prefix, 0, 0, 254, 3, 0, 1, 0, 0, 0, 0]
}

fn ifinfo(index: i32, flags: u32, change: u32) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[4..8].copy_from_slice(&index.to_le_bytes());
    b[8..12].copy_from_slice(&flags.to_le_bytes());
    b[12..16].copy_from_slice(&change.to_le_bytes());
    b
}

/// The messages of a reply: (type, body).
fn messages(r: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    let mut off = 0;
    while off + 16 <= r.len() {
        let len = u32_at(r, off) as usize;
        out.push((u16_at(r, off + 4), &r[off + 16..off + len]));
        off += align4(len);
    }
    out
}

fn setup() -> (Arc<NetContainer>, Arc<NetStack>) {
    let net = crate::net::env::current_net();
    (net, NetStack::new().expect("stack"))
}

const CE: u16 = NLM_F_CREATE | NLM_F_EXCL;

#[test]
fn link_dump_has_lo_then_done() {
    let s = NetStack::new().expect("stack");
    let m = dump_links(&s, 7, 42).expect("dump");
    let msgs = messages(&m);
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[0].0, RTM_NEWLINK);
    assert_eq!(u32_at(msgs[0].1, 4), 1, "lo is 1");
    assert!(msgs[0].1.windows(3).any(|w| w == b"lo\0"));
    assert_eq!(msgs[1].0, NLMSG_DONE);
    let a = dump_addrs(&s, AF_INET as u8, 1, 1).expect("addrs");
    assert_eq!(a[16], AF_INET as u8);
    assert_eq!(a[17], 8, "127.0.0.1/8");
}

#[test]
fn veth_by_name_then_address_route_and_delete() {
    let (net, s) = setup();
    let peer = {
        let mut p = ifinfo(0, 0, 0).to_vec();
        p.extend_from_slice(&[7, 0, 3, 0, b'v', b'2', 0, 0]);
        p
    };
    let mut data = Out::default();
    data.attr(VETH_PEER_FOR_TEST, &peer);
    let data = data.finish().expect("data");
    let mut info = Out::default();
    info.attr(1, b"veth");
    info.attr(2 | 0x8000, &data);
    let info = info.finish().expect("info");
    let add = msg(
        RTM_NEWLINK,
        CE,
        &ifinfo(0, 0, 0),
        &[(3, b"v1\0"), (18, &info)],
    );
    assert_eq!(run(&net, &s, &add), Ok(Vec::new()));
    assert_eq!(run(&net, &s, &add), Err(Errno::EEXIST), "v1 exists");
    let (v1, v2) = s.with(|g| {
        (
            g.link("v1").expect("v1").index,
            g.link("v2").expect("v2").index,
        )
    });
    assert_eq!((v1, v2), (2, 3));
    let dummy = {
        let mut i = Out::default();
        i.attr(1, b"dummy");
        i.finish().expect("info")
    };
    let other = msg(
        RTM_NEWLINK,
        CE,
        &ifinfo(0, 0, 0),
        &[(3, b"d0\0"), (18, &dummy)],
    );
    assert_eq!(run(&net, &s, &other), Err(Errno::EOPNOTSUPP));
    let no_create = msg(RTM_NEWLINK, 0, &ifinfo(0, 0, 0), &[(3, b"zz\0")]);
    assert_eq!(run(&net, &s, &no_create), Err(Errno::ENODEV));

    // Up, MTU, then an address and a default route through it.
    let up = msg(
        RTM_SETLINK,
        0,
        &ifinfo(v1 as i32, 1, 1),
        &[(4, &1400u32.to_le_bytes())],
    );
    assert_eq!(run(&net, &s, &up), Ok(Vec::new()));
    s.with(|g| {
        let l = g.link("v1").expect("v1");
        assert!(l.is_up());
        assert_eq!(l.mtu, 1400);
    });
    let bad_mtu = msg(
        RTM_SETLINK,
        0,
        &ifinfo(v1 as i32, 0, 0),
        &[(4, &10u32.to_le_bytes())],
    );
    assert_eq!(run(&net, &s, &bad_mtu), Err(Errno::EINVAL));
    let gone = msg(RTM_SETLINK, 0, &ifinfo(99, 1, 1), &[]);
    assert_eq!(run(&net, &s, &gone), Err(Errno::ENODEV));
    let ip = [10, 1, 0, 1];
    let addr = msg(
        RTM_NEWADDR,
        CE,
        &ifaddr(AF_INET as u8, 24, v1),
        &[(2, &ip), (1, &ip)],
    );
    assert_eq!(run(&net, &s, &addr), Ok(Vec::new()));
    assert_eq!(run(&net, &s, &addr), Err(Errno::EEXIST));
    let nodev = msg(RTM_NEWADDR, CE, &ifaddr(AF_INET as u8, 24, 42), &[(2, &ip)]);
    assert_eq!(run(&net, &s, &nodev), Err(Errno::ENODEV));
    let gw = [10, 1, 0, 2];
    let route = msg(RTM_NEWROUTE, CE, &rtmsg(0), &[(5, &gw)]);
    assert_eq!(run(&net, &s, &route), Ok(Vec::new()));
    assert_eq!(run(&net, &s, &route), Err(Errno::EEXIST));
    let far = msg(
        RTM_NEWROUTE,
        CE,
        &rtmsg(8),
        &[(1, &[11, 0, 0, 0]), (5, &[9, 9, 9, 9])],
    );
    assert_eq!(run(&net, &s, &far), Err(Errno::ENETUNREACH));
    let hostbits = msg(
        RTM_NEWROUTE,
        CE,
        &rtmsg(8),
        &[(1, &[11, 0, 0, 1]), (5, &gw)],
    );
    assert_eq!(run(&net, &s, &hostbits), Err(Errno::EINVAL));

    let dump = msg(RTM_GETROUTE, NLM_F_DUMP, &rtmsg(0), &[]);
    let r = run(&net, &s, &dump).expect("route dump");
    let routes: Vec<_> = messages(&r)
        .into_iter()
        .filter(|(t, b)| *t == 24 && b[0] == AF_INET as u8)
        .map(|(_, b)| (b[1], b[5]))
        .collect();
    assert_eq!(
        routes,
        [(0, 3), (24, 2)],
        "default (boot), 10.1.0.0/24 (kernel)"
    );

    // Lookups (`ip route get`): via the gateway, on the link, local.
    let get = |ip: &[u8]| {
        let q = msg(RTM_GETROUTE, 0, &rtmsg(0), &[(1, ip)]);
        let r = run(&net, &s, &q)?;
        let (_, b) = messages(&r)[0];
        let a = Attrs::parse(&b[12..]).expect("attrs");
        Ok::<_, Errno>((b[7], a.u32(4).expect("oif"), a.get(5).map(|g| g.to_vec())))
    };
    assert_eq!(get(&[8, 8, 8, 8]), Ok((1, Some(v1), Some(gw.to_vec()))));
    assert_eq!(get(&[10, 1, 0, 7]), Ok((1, Some(v1), None)));
    assert_eq!(get(&ip), Ok((2, Some(1), None)), "local");

    let del_route = msg(RTM_DELROUTE, 0, &rtmsg(0), &[]);
    assert_eq!(run(&net, &s, &del_route), Ok(Vec::new()));
    assert_eq!(run(&net, &s, &del_route), Err(Errno::ESRCH));
    let q = msg(RTM_GETROUTE, 0, &rtmsg(0), &[(1, &[8, 8, 8, 8])]);
    assert_eq!(run(&net, &s, &q), Err(Errno::ENETUNREACH), "no default now");
    let del_addr = msg(RTM_DELADDR, 0, &ifaddr(AF_INET as u8, 24, v1), &[(2, &ip)]);
    assert_eq!(run(&net, &s, &del_addr), Ok(Vec::new()));
    assert_eq!(run(&net, &s, &del_addr), Err(Errno::EADDRNOTAVAIL));

    let del_lo = msg(RTM_DELLINK, 0, &ifinfo(1, 0, 0), &[]);
    assert_eq!(run(&net, &s, &del_lo), Err(Errno::EOPNOTSUPP));
    let del = msg(RTM_DELLINK, 0, &ifinfo(0, 0, 0), &[(3, b"v2\0")]);
    assert_eq!(run(&net, &s, &del), Ok(Vec::new()));
    assert!(s.with(|g| g.links().len()) == 1, "both ends gone");
    assert_eq!(run(&net, &s, &del), Err(Errno::ENODEV));
}

const VETH_PEER_FOR_TEST: u16 = 1;

#[test]
fn an_error_echoes_the_request_and_an_ack_only_its_header() {
    let req = msg(RTM_NEWADDR, NLM_F_ACK, &ifaddr(AF_INET as u8, 24, 1), &[]);
    let e = ack(&req, Errno::ENODEV as i32, 5).expect("error");
    assert_eq!(u16_at(&e, 4), NLMSG_ERROR);
    assert_eq!(u32_at(&e, 16) as i32, -(Errno::ENODEV as i32));
    assert_eq!(&e[20..], &req[..], "whole request");
    let a = ack(&req, 0, 5).expect("ack");
    assert_eq!(u32_at(&a, 0), 36);
    assert_eq!(u16_at(&a, 6), NLM_F_CAPPED);
    assert_eq!(u32_at(&a, 16), 0);
}

#[test]
fn a_big_dump_is_split_at_message_boundaries() {
    let mut m = Out::default();
    for i in 0..500u32 {
        m.begin(RTM_NEWLINK, NLM_F_MULTI, i, 1);
        m.put(&[0; 40]);
        m.end();
    }
    let all = m.finish().expect("msgs");
    let p = parts(all.clone()).expect("parts");
    assert!(p.len() > 1 && p.iter().all(|x| x.len() <= PART));
    assert_eq!(p.concat(), all);
    assert!(p.iter().all(|x| messages(x).len() * 56 == x.len()));
}

#[test]
fn a_stack_takes_at_most_links_max_links_by_rtnetlink() {
    let (net, s) = setup();
    let mut made = 0;
    let err = loop {
        let mut info = Out::default();
        info.attr(1, b"veth");
        let info = info.finish().expect("info");
        let add = msg(RTM_NEWLINK, CE, &ifinfo(0, 0, 0), &[(18, &info)]);
        match run(&net, &s, &add) {
            Ok(_) => made += 1,
            Err(e) => break e,
        }
    };
    assert_eq!(err, Errno::ENOSPC);
    assert_eq!(made, 127);
    assert_eq!(s.with(|g| g.links().len()), 255, "lo and 127 pairs");
    s.shut_down();
    assert_eq!(s.with(|g| g.links().len()), 1, "only lo after");
}
