//! Who takes part in a computation: topologies as data, and the links of one party to its peers.
//!
//! A [`Topology`] lists the parties of a deployment by [`PartyId`] and says what each one does
//! ([`Duty`]). Parties 0 and 1 always hold the secret shares (SecureML's and SecureNN's P0 and P1,
//! PrivPy's S1 and S2), so the two-party protocols run unchanged in every topology; parties from 2
//! on help (a dealer, SecureNN's P2, PrivPy's assistants). Data owners are clients of the
//! share-holding servers, not parties of the topology: each submits over a link of its own.

use crate::error::{Error, ErrorKind};
use crate::role::Role;
use crate::transport::{Link, Stats, Sub};
use alloc::vec::Vec;

/// A party's position in a [`Topology`]: 0 and 1 hold the shares, 2 and up help.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartyId(pub u8);

impl PartyId {
    /// The share-holding party with `role`.
    pub fn of(role: Role) -> PartyId {
        PartyId(role.index() as u8)
    }

    /// The index, for tables of per-party values.
    pub fn index(self) -> usize {
        usize::from(self.0)
    }

    /// The share-holding role of this party: `Some(P0)` or `Some(P1)` for parties 0 and 1.
    pub fn role(self) -> Option<Role> {
        Role::from_index(self.index())
    }
}

/// What a party does in its topology.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Duty {
    /// Holds additive shares of the data and computes on them.
    Server(Role),
    /// Hands out correlated randomness before or during the online phase, learns nothing.
    Dealer,
    /// Takes part in the online phase without holding shares of the data (SecureNN's P2).
    Helper,
    /// Computes on masked values the primaries hand it (PrivPy's assistants), holds no shares.
    Assistant,
}

/// The parties of a deployment and what each one does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Topology {
    /// Two servers that generate their own correlated randomness (by OT) or need none:
    /// P0 and P1.
    TwoServers,
    /// Two servers and a dealer (party 2) that supplies their correlated randomness (SecureML's
    /// offline phase, MiniONN).
    TwoServersDealer,
    /// P0 and P1 hold the shares, P2 helps online and supplies correlations (SecureNN).
    ThreeServers,
    /// Two primaries S1, S2 (parties 0, 1) hold the shares, two assistants (parties 2, 3)
    /// compute on masked values (PrivPy).
    FourServers,
}

impl Topology {
    /// The number of parties.
    pub fn parties(self) -> usize {
        match self {
            Topology::TwoServers => 2,
            Topology::TwoServersDealer | Topology::ThreeServers => 3,
            Topology::FourServers => 4,
        }
    }

    /// What party `id` does, or `None` if the topology has no such party.
    pub fn duty(self, id: PartyId) -> Option<Duty> {
        if id.index() >= self.parties() {
            return None;
        }
        Some(match (self, id.role()) {
            (_, Some(role)) => Duty::Server(role),
            (Topology::TwoServersDealer, None) => Duty::Dealer,
            (Topology::ThreeServers, None) => Duty::Helper,
            (_, None) => Duty::Assistant,
        })
    }

    /// The conventional name of party `id` ("P0", "dealer", "Sa", ...), for messages.
    pub fn name(self, id: PartyId) -> &'static str {
        match (self, id.0) {
            (Topology::FourServers, 0) => "S1",
            (Topology::FourServers, 1) => "S2",
            (Topology::FourServers, 2) => "Sa",
            (Topology::FourServers, 3) => "Sb",
            (_, 0) => "P0",
            (_, 1) => "P1",
            (Topology::TwoServersDealer, 2) => "dealer",
            (Topology::ThreeServers, 2) => "P2",
            _ => "no such party",
        }
    }

    /// The parties `id` holds a link to in the online phase: every other party, except that the
    /// servers of [`Topology::TwoServersDealer`] reach the dealer through their correlation source
    /// (it owns that connection), not through the session's links.
    pub fn peers(self, id: PartyId) -> impl Iterator<Item = PartyId> {
        let n = self.parties() as u8;
        (0..n).map(PartyId).filter(move |&p| {
            p != id
                && !(self == Topology::TwoServersDealer
                    && (self.duty(p) == Some(Duty::Dealer) || self.duty(id) == Some(Duty::Dealer)))
        })
    }
}

/// One party's links to its peers, indexed by [`PartyId`].
pub struct Links<T> {
    me: PartyId,
    links: Vec<Option<Link<T>>>,
}

impl<T> Links<T> {
    /// No links yet, for party `me`.
    pub fn new(me: PartyId) -> Self {
        Links {
            me,
            links: Vec::new(),
        }
    }

    /// The links of share-holding party `role` in a two-party topology: one, to the other.
    pub fn pair(role: Role, peer: Link<T>) -> Self {
        let mut links = Links::new(PartyId::of(role));
        links.links.resize_with(2, || None);
        links.links[role.peer().index()] = Some(peer);
        links
    }

    /// Adds (or replaces) the link to `peer`. Fails if `peer` is this party.
    pub fn insert(&mut self, peer: PartyId, link: Link<T>) -> Result<(), Error> {
        if peer == self.me {
            return Err(Error::new(
                "links",
                ErrorKind::InvalidArgument("a party has no link to itself"),
            ));
        }
        let i = peer.index();
        if self.links.len() <= i {
            self.links.resize_with(i + 1, || None);
        }
        self.links[i] = Some(link);
        Ok(())
    }

    /// The party these links belong to.
    pub fn me(&self) -> PartyId {
        self.me
    }

    /// Whether there is a link to `peer`.
    pub fn has(&self, peer: PartyId) -> bool {
        matches!(self.links.get(peer.index()), Some(Some(_)))
    }

    /// The link to `peer`; an error names the missing peer's number.
    pub fn get(&mut self, peer: PartyId) -> Result<&mut Link<T>, Error> {
        match self.links.get_mut(peer.index()) {
            Some(Some(l)) => Ok(l),
            _ => Err(Error::new(
                "links",
                ErrorKind::InvalidArgument("no link to that party in this session"),
            )),
        }
    }

    /// The links, with the peer each one leads to.
    pub fn iter(&self) -> impl Iterator<Item = (PartyId, &Link<T>)> {
        self.links
            .iter()
            .enumerate()
            .filter_map(|(i, l)| l.as_ref().map(|l| (PartyId(i as u8), l)))
    }

    /// The links, mutable, with the peer each one leads to.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (PartyId, &mut Link<T>)> {
        self.links
            .iter_mut()
            .enumerate()
            .filter_map(|(i, l)| l.as_mut().map(|l| (PartyId(i as u8), l)))
    }

    /// Traffic over all links.
    pub fn stats(&self) -> Stats {
        self.iter()
            .fold(Stats::default(), |a, (_, l)| a + l.stats())
    }

    /// Traffic of sub-channel `sub` over all links.
    pub fn sub_stats(&self, sub: Sub) -> Stats {
        self.iter()
            .fold(Stats::default(), |a, (_, l)| a + l.sub_stats(sub))
    }

    /// Transport calls attempted over all links (see [`Link::activity`]).
    pub fn activity(&self) -> u64 {
        self.iter().map(|(_, l)| l.activity()).sum()
    }

    /// Flushes every link with buffered bytes (see [`Link::flush_pending`]).
    pub async fn flush_pending(&mut self, op: &'static str) -> Result<(), Error>
    where
        T: crate::transport::Transport,
    {
        for (_, link) in self.iter_mut() {
            link.flush_pending(op).await?;
        }
        Ok(())
    }

    /// Gives the links back, with the peer each one leads to.
    pub fn into_links(self) -> impl Iterator<Item = (PartyId, Link<T>)> {
        self.links
            .into_iter()
            .enumerate()
            .filter_map(|(i, l)| l.map(|l| (PartyId(i as u8), l)))
    }
}
