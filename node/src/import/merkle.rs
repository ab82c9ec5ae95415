//! The Merkle root of what an import wrote: a tree (the `rs_merkle` crate) over the entry
//! hashes of the importer's content records, in chain order, hashed with blake2b-256. The
//! importer's node signs it in the migration manifest; a member computes it again from its
//! own replica.

use rs_merkle::{Hasher, MerkleTree};

/// blake2b-256, as `rs_merkle` hashes pairs of nodes.
#[derive(Clone)]
pub struct Blake2b256;

impl Hasher for Blake2b256 {
    type Hash = [u8; 32];

    fn hash(data: &[u8]) -> [u8; 32] {
        myco_dna::blake2b_256(data)
    }
}

/// The root over `leaves` (entry hashes, in chain order); all zeros for none.
pub fn merkle_root(leaves: &[[u8; 32]]) -> [u8; 32] {
    MerkleTree::<Blake2b256>::from_leaves(leaves)
        .root()
        .unwrap_or([0; 32])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_depends_on_every_leaf_and_its_place() {
        let leaves: Vec<[u8; 32]> = (0..5u8).map(|i| [i; 32]).collect();
        let root = merkle_root(&leaves);
        assert_eq!(root, merkle_root(&leaves), "deterministic");
        let mut dropped = leaves.clone();
        dropped.remove(2);
        assert_ne!(merkle_root(&dropped), root);
        let mut swapped = leaves.clone();
        swapped.swap(0, 1);
        assert_ne!(merkle_root(&swapped), root);
        assert_eq!(merkle_root(&[]), [0; 32]);
    }
}
