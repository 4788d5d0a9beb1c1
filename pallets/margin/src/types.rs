//! Records the margin pallet stores, all bounded and `MaxEncodedLen`.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	traits::Get, BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use perp_primitives::{AssetId, Balance, MarketId};
use scale_info::TypeInfo;
use sp_runtime::Perbill;

/// One bracket of a market's margin schedule: the ratios that apply to the part of a position's
/// USD notional between the previous tier's `up_to` and this one's.
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
	serde::Serialize,
	serde::Deserialize,
)]
pub struct Tier {
	/// The upper end of the bracket, in USD units (the last tier also covers everything above).
	pub up_to: Balance,
	/// Initial margin ratio: required to add risk.
	pub initial: Perbill,
	/// Maintenance margin ratio: below it the account is liquidatable.
	pub maintenance: Perbill,
}

/// A perpetual market's parameters, set by governance.
#[derive(
	CloneNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	EqNoBound,
	PartialEqNoBound,
	DebugNoBound,
	TypeInfo,
	MaxEncodedLen,
	serde::Serialize,
	serde::Deserialize,
)]
#[scale_info(skip_type_params(MaxTiers))]
#[serde(bound = "")]
pub struct MarketParams<MaxTiers: Get<u32>> {
	/// The oracle asset the market tracks.
	pub asset: AssetId,
	/// Smallest units of position size per whole unit of the asset (10^decimals).
	pub unit: Balance,
	/// Margin brackets, by increasing `up_to` and non-decreasing ratios.
	pub tiers: BoundedVec<Tier, MaxTiers>,
	/// No position may exceed this many times the account's equity in notional.
	pub max_leverage: u32,
	/// The largest total long size, in the asset's smallest units.
	pub max_open_interest_long: Balance,
	/// The largest total short size, in the asset's smallest units.
	pub max_open_interest_short: Balance,
	/// Fee on the notional of every trade, paid to the protocol's fee ledger.
	pub trading_fee: Perbill,
	/// Price concession a liquidated position is closed at, off the oracle price.
	pub liquidation_discount: Perbill,
	/// The largest share of a position one partial liquidation may close in a block.
	pub max_partial_liquidation: Perbill,
	/// The smallest notional, in the settlement asset's smallest units at the trade price, a
	/// position may be left with by a trade (0: no minimum); at most `MAX_MIN_NOTIONAL` whole
	/// units. A dust position would cost a liquidation's weight and pay nothing.
	pub min_notional: Balance,
}

/// A collateral asset other than the settlement asset.
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
	serde::Serialize,
	serde::Deserialize,
)]
pub struct CollateralParams {
	/// Smallest units per whole unit of the asset (10^decimals).
	pub unit: Balance,
	/// The share of its value that counts towards equity (the haircut is the rest).
	pub weight: Perbill,
	/// The smallest holding, in the asset's smallest units, a deposit or withdrawal may leave
	/// (0: no minimum); at most `MAX_MIN_COLLATERAL` whole units.
	pub min_amount: Balance,
}

/// An open position.
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
pub struct Position {
	/// The market.
	pub market: MarketId,
	/// Signed size in the market asset's smallest units: positive long, negative short.
	pub size: i128,
	/// Signed USD entry cost of the size held (rounded against the trader).
	pub cost: i128,
}

/// A market's open interest: its total long and total short size, in the asset's smallest
/// units (encoded as the `(long, short)` pair it replaced).
#[derive(
	Clone,
	Copy,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	Eq,
	PartialEq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Interest {
	/// The sum of every long position's size.
	pub long: Balance,
	/// The sum of every short position's size (as a positive amount).
	pub short: Balance,
}

impl Interest {
	/// The total of the `long` side, or of the short side.
	pub fn side(&self, long: bool) -> Balance {
		if long {
			self.long
		} else {
			self.short
		}
	}

	/// The total of the `long` side, or of the short side, to change.
	pub fn side_mut(&mut self, long: bool) -> &mut Balance {
		if long {
			&mut self.long
		} else {
			&mut self.short
		}
	}
}

/// A margin account: its USD cash, its positions, its collateral in other assets, how many of
/// its collateral's auctions are open, and whether the risk index has it crossed at any price.
#[derive(
	CloneNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	EqNoBound,
	PartialEqNoBound,
	DebugNoBound,
	TypeInfo,
	MaxEncodedLen,
)]
#[scale_info(skip_type_params(MaxPositions, MaxCollateral))]
pub struct MarginAccount<MaxPositions: Get<u32>, MaxCollateral: Get<u32>> {
	/// USD balance: deposits, realized PnL and fees. Negative is debt, covered by the other
	/// collateral.
	pub cash: i128,
	/// Open positions, at most one per market.
	pub positions: BoundedVec<Position, MaxPositions>,
	/// Non-settlement collateral: (asset, amount), ascending asset ids, no zero amount. Kept
	/// in the record because every valuation reads all of it with the positions.
	pub collateral: BoundedVec<(AssetId, Balance), MaxCollateral>,
	/// How many collateral auctions are open for the account's debt. The liquidation pallet's
	/// count, kept here because every liquidation reads and writes the record anyway (see
	/// `MarginLiquidator::auction_collateral`).
	pub auctions: u32,
	/// Whether the account is in the risk index as crossed at any price: one `LowerTriggers`
	/// entry under the settlement asset at the highest lower end, which every price reaches.
	/// Set when it lost value it cannot be valued well without (see `cross`), cleared by
	/// its next re-index. Kept here, in the record the liquidation that sets it writes anyway,
	/// instead of in its `Triggers` entry: one read and one write less a liquidated account.
	pub crossed: bool,
}

/// A new collateral asset found an account's list full (see [`MarginAccount::set_holding`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoRoom;

impl<M: Get<u32>, C: Get<u32>> Default for MarginAccount<M, C> {
	fn default() -> Self {
		Self {
			cash: 0,
			positions: BoundedVec::new(),
			collateral: BoundedVec::new(),
			auctions: 0,
			crossed: false,
		}
	}
}

impl<M: Get<u32>, C: Get<u32>> MarginAccount<M, C> {
	/// Whether the account holds nothing and can be removed from storage.
	pub fn is_empty(&self) -> bool {
		self.cash == 0
			&& self.positions.is_empty()
			&& self.collateral.is_empty()
			&& self.auctions == 0
			&& !self.crossed
	}

	/// Whether a price can make the account liquidatable: it has positions or debt.
	pub fn at_risk(&self) -> bool {
		!self.positions.is_empty() || self.cash < 0
	}

	/// The amount of collateral `asset` held.
	pub fn holding(&self, asset: AssetId) -> Balance {
		self.collateral
			.iter()
			.find(|(a, _)| *a == asset)
			.map_or(0, |(_, amount)| *amount)
	}

	/// Sets the holding of `asset` to `amount` (removed at zero), keeping asset order. Fails,
	/// changing nothing, when a new asset finds the list full.
	pub fn set_holding(&mut self, asset: AssetId, amount: Balance) -> Result<(), NoRoom> {
		match self.collateral.binary_search_by_key(&asset, |(a, _)| *a) {
			Ok(i) if amount == 0 => {
				self.collateral.remove(i);
			},
			Ok(i) => {
				if let Some(slot) = self.collateral.get_mut(i) {
					slot.1 = amount;
				}
			},
			Err(_) if amount == 0 => {},
			Err(i) => self.collateral.try_insert(i, (asset, amount)).map_err(|_| NoRoom)?,
		}
		Ok(())
	}
}

/// A price bucket in the risk index, big-endian so that keys sort in bucket order.
pub type Bucket = [u8; 4];

/// A position's entry price as a key of `ProfitOrder`, big-endian so that keys sort in profit
/// order (a short's inverted).
pub type RankKey = [u8; 16];

/// An account's place in the risk index for one asset: the buckets of the ends of its safe
/// band (the upper one inverted), `None` where no move of the price can reach.
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
pub struct Trigger {
	/// The asset whose price the band is about.
	pub asset: AssetId,
	/// The `LowerTriggers` bucket.
	pub lower: Option<Bucket>,
	/// The `UpperTriggers` bucket (inverted).
	pub upper: Option<Bucket>,
}

/// An account's entries in the risk index, kept so that they can be replaced, with the
/// `RiskVersion` their bands were computed under (encoded as the `(version, triggers)` pair it
/// replaced).
#[derive(
	CloneNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	EqNoBound,
	PartialEqNoBound,
	DebugNoBound,
	TypeInfo,
	MaxEncodedLen,
)]
#[scale_info(skip_type_params(MaxEntries))]
pub struct IndexEntry<MaxEntries: Get<u32>> {
	/// The `RiskVersion` the bands were computed under.
	pub version: u32,
	/// One entry per asset the account is exposed to.
	pub triggers: BoundedVec<Trigger, MaxEntries>,
}

/// A collateral holding as the runtime API reports it.
#[derive(Clone, Encode, Decode, Eq, PartialEq, Debug, TypeInfo)]
pub struct CollateralView {
	/// The asset.
	pub asset: AssetId,
	/// The amount held, in the asset's smallest units.
	pub amount: Balance,
	/// Its USD value at the last known price, after the haircut.
	pub weighted_value: Balance,
}

/// A position as the runtime API reports it, at the last known prices.
#[derive(Clone, Encode, Decode, Eq, PartialEq, Debug, TypeInfo)]
pub struct PositionView {
	/// The market.
	pub market: MarketId,
	/// Signed size in the market asset's smallest units.
	pub size: i128,
	/// Average entry price.
	pub entry_price: perp_primitives::Price,
	/// The market's last known price.
	pub price: perp_primitives::Price,
	/// USD notional at that price.
	pub notional: Balance,
	/// Unrealized PnL in USD.
	pub pnl: i128,
	/// Initial margin of this position.
	pub initial: Balance,
	/// Maintenance margin of this position.
	pub maintenance: Balance,
	/// The price at which the account turns liquidatable, every other price held fixed;
	/// `None` if no price up to `MaxPrice` does.
	pub liquidation_price: Option<perp_primitives::Price>,
}

/// A margin account as the runtime API reports it, at the last known prices.
#[derive(Clone, Encode, Decode, Eq, PartialEq, Debug, TypeInfo)]
pub struct AccountSummary {
	/// USD cash (negative: debt).
	pub cash: i128,
	/// Non-settlement collateral.
	pub collateral: alloc::vec::Vec<CollateralView>,
	/// Open positions.
	pub positions: alloc::vec::Vec<PositionView>,
	/// Cash + weighted collateral + unrealized PnL.
	pub equity: i128,
	/// Total initial margin.
	pub initial: Balance,
	/// Total maintenance margin.
	pub maintenance: Balance,
	/// Health at the last known prices.
	pub state: perp_primitives::HealthState,
	/// Whether every price involved is fresh; if not, the chain gives no verdict
	/// (`MarginInspector` answers `None`) and refuses to add risk.
	pub prices_fresh: bool,
}

/// A market as the runtime API reports it.
#[derive(Clone, Encode, Decode, Eq, PartialEq, Debug, TypeInfo)]
pub struct MarketView {
	/// The market's id.
	pub market: MarketId,
	/// The oracle asset.
	pub asset: AssetId,
	/// Smallest units per whole unit of the asset.
	pub unit: Balance,
	/// Margin brackets.
	pub tiers: alloc::vec::Vec<Tier>,
	/// Leverage limit.
	pub max_leverage: u32,
	/// Open interest, long and short, in the asset's smallest units.
	pub open_interest: Interest,
	/// Open-interest caps, long and short.
	pub max_open_interest: (Balance, Balance),
	/// Trading fee.
	pub trading_fee: Perbill,
	/// The oracle price with its status.
	pub price: perp_primitives::PriceInfo,
}
