//! Records the oracle stores, all bounded and `MaxEncodedLen`.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use perp_primitives::{Moment, Price};
use scale_info::TypeInfo;
use sp_runtime::{FixedU128, Perbill};

/// One feeder's latest value for one asset.
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	Eq,
	PartialEq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct RawValue<BlockNumber> {
	/// The submitted price.
	pub price: Price,
	/// When it was submitted (milliseconds since the Unix epoch).
	pub at: Moment,
	/// The block it was submitted in (one value per feeder, asset and block).
	pub block: BlockNumber,
}

/// One feeder's latest value of an asset, in the asset's record of values.
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	Eq,
	PartialEq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct FeederValue<AccountId, BlockNumber> {
	/// The feeder.
	pub feeder: AccountId,
	/// Its value.
	pub value: RawValue<BlockNumber>,
}

/// The aggregate of an asset, its statistics, and the state its circuit breaker needs.
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	Eq,
	PartialEq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Aggregate<BlockNumber> {
	/// The last accepted median of fresh, non-outlying feeder values.
	pub price: Price,
	/// The price's time: that of the `min_feeders`-th newest value it rests on (the oldest of
	/// its freshest quorum), not of its acceptance. Freshness and volatility count from it.
	pub at: Moment,
	/// How many feeders' values it was computed from.
	pub feeders: u32,
	/// Exponential moving average of accepted prices.
	pub index: Price,
	/// EWMA of squared log returns per millisecond (see `aggregation::variance_rate_step`).
	pub variance_rate: FixedU128,
	/// The state at the start of the block in which the aggregate last changed: the reference
	/// of the circuit breaker, and the base from which the index and volatility of a price
	/// accepted in that block are computed, however many feeds the block holds. `None` after a
	/// governance reset that found no quorum: the next median is then accepted as it is.
	pub base: Option<Base<BlockNumber>>,
	/// Set when the circuit breaker tripped: the price is `Frozen` until a quorum of values
	/// submitted after this moment, or governance, resets it.
	pub frozen_since: Option<Moment>,
}

/// An aggregate's state as a block starts (see [`Aggregate::base`]).
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	Eq,
	PartialEq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Base<BlockNumber> {
	/// The block this base belongs to.
	pub block: BlockNumber,
	/// The price accepted last before the block.
	pub price: Price,
	/// That price's time (see `Aggregate::at`).
	pub at: Moment,
	/// The index before the block.
	pub index: Price,
	/// The variance rate before the block.
	pub variance_rate: FixedU128,
}

/// Governance-set aggregation parameters; `Pallet::ensure_valid_params` bounds every field.
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	Eq,
	PartialEq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct OracleParams {
	/// A value older than this (milliseconds) is not fresh and takes no part in the median; an
	/// aggregate older than this is `Stale`.
	pub max_age: Moment,
	/// The fewest distinct feeders whose fresh, non-outlying values make a price.
	pub min_feeders: u32,
	/// Values further than this from the median of the fresh values are excluded.
	pub max_deviation: Perbill,
	/// A new median further than this from the price at the start of the block trips the
	/// asset's circuit breaker.
	pub max_change_per_block: Perbill,
	/// Weight of a new price in the EMA index.
	pub index_smoothing: Perbill,
	/// Share of the previous variance estimate kept at each update (EWMA decay).
	pub volatility_decay: Perbill,
}

/// The longest `max_age` governance may set: one day.
pub const MAX_AGE_LIMIT: Moment = 24 * 60 * 60 * 1000;
/// The widest `max_deviation` governance may set: beyond half the price, "outlier" means nothing.
pub const MAX_DEVIATION_LIMIT: Perbill = Perbill::from_percent(50);

/// What the runtime API reports for one asset.
#[derive(Clone, Encode, Decode, Eq, PartialEq, Debug, TypeInfo)]
pub struct AssetView {
	/// The asset.
	pub asset: perp_primitives::AssetId,
	/// Its price, aggregation time and status, as `PriceProvider` reports them.
	pub price: perp_primitives::PriceInfo,
	/// Its index price and annualized volatility, once priced.
	pub stats: Option<perp_primitives::PriceStats>,
	/// How many feeders the current aggregate was computed from.
	pub feeders: u32,
}

/// What the runtime API reports for one feeder's value.
#[derive(Clone, Encode, Decode, Eq, PartialEq, Debug, TypeInfo)]
pub struct RawValueView<AccountId> {
	/// The feeder.
	pub feeder: AccountId,
	/// The submitted price.
	pub price: Price,
	/// When it was submitted.
	pub at: Moment,
	/// Whether it is younger than `max_age` now.
	pub fresh: bool,
}
