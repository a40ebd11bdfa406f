//! The two computing parties.

/// Which of the two computing parties this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Party 0 (server 0; the garbler in garbled-circuit protocols).
    P0,
    /// Party 1 (server 1; the evaluator in garbled-circuit protocols).
    P1,
}

impl Role {
    /// 0 or 1.
    pub fn index(self) -> usize {
        match self {
            Role::P0 => 0,
            Role::P1 => 1,
        }
    }

    /// The other party.
    pub fn peer(self) -> Role {
        match self {
            Role::P0 => Role::P1,
            Role::P1 => Role::P0,
        }
    }

    /// The role with index 0 or 1.
    pub fn from_index(i: usize) -> Option<Role> {
        match i {
            0 => Some(Role::P0),
            1 => Some(Role::P1),
            _ => None,
        }
    }
}
