//! Cascade simulator: a population of margin accounts through historical and synthetic crash
//! paths, on the real perpchain runtime (its pallets natively in `TestExternalities`, blocks
//! initialized and finalized, the liquidation offchain worker's submissions applied in the
//! next block), with the liquidations' selling fed back into the prices; it measures what the
//! liquidation engine loses for the protocol and for the users.

pub mod charts;
pub mod engine;
pub mod paths;
pub mod population;
pub mod report;
