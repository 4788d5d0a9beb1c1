//! Shared types and the traits through which the perpchain pallets talk to each other.
//!
//! Pallets never name each other in their `Config` bounds or read each other's storage: the oracle
//! implements [`PriceProvider`], the margin pallet implements [`MarginReader`] and
//! [`MarginLiquidator`], and the runtime wires them together. This crate holds no storage.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_runtime::{
	helpers_128bit::multiply_by_rational_with_rounding, FixedPointNumber, FixedU128, Rounding,
};

/// Identifier of an asset known to the chain (collateral or an oracle-priced underlying).
pub type AssetId = u32;

/// An amount of an asset, in its smallest unit.
pub type Balance = u128;

/// Identifier of a perpetual market.
pub type MarketId = u32;

/// A price in the settlement asset (USD) per whole unit of an asset, in fixed point.
pub type Price = FixedU128;

/// Milliseconds since the Unix epoch, as kept by `pallet-timestamp`.
pub type Moment = u64;

/// `a × b / c` rounded as `rounding` asks, `None` when `c` is zero or the result exceeds 128
/// bits: the same as `sp_arithmetic`'s `multiply_by_rational_with_rounding`, which always takes
/// the 256-bit product; this takes it only when `a × b` does not fit in 128 bits. In wasm, where
/// 128-bit division is a software routine, the 256-bit path costs several divisions, and the
/// products of a valuation (amounts of a few whole units at prices of up to 10^5 USD) mostly
/// fit.
pub fn mul_div(a: u128, b: u128, c: u128, rounding: Rounding) -> Option<u128> {
	if c == 0 {
		return None;
	}
	let Some(product) = a.checked_mul(b) else {
		return multiply_by_rational_with_rounding(a, b, c, rounding);
	};
	let (quotient, remainder) = (product / c, product % c);
	let up = match rounding {
		Rounding::Up => remainder > 0,
		// (`c - remainder` cannot overflow; `remainder >= c - remainder` is `2r >= c`.)
		Rounding::NearestPrefUp => remainder >= c - remainder,
		Rounding::NearestPrefDown => remainder > c - remainder,
		Rounding::Down => false,
	};
	if up {
		quotient.checked_add(1)
	} else {
		Some(quotient)
	}
}

/// The USD value, in smallest USD units (`settlement_unit` per USD), of `amount` smallest units
/// of an asset whose whole unit is `unit` of them, at `price`; `None` on overflow.
pub fn usd_value(
	amount: Balance,
	unit: Balance,
	price: Price,
	settlement_unit: Balance,
	rounding: Rounding,
) -> Option<Balance> {
	let numerator = price.into_inner().checked_mul(settlement_unit)?;
	let denominator = unit.checked_mul(Price::DIV)?;
	mul_div(amount, numerator, denominator, rounding)
}

/// The inverse of [`usd_value`]: how many smallest units of the asset `usd` buys at `price`;
/// `None` on overflow or at a zero price.
pub fn units_for_usd(
	usd: Balance,
	unit: Balance,
	price: Price,
	settlement_unit: Balance,
	rounding: Rounding,
) -> Option<Balance> {
	let numerator = unit.checked_mul(Price::DIV)?;
	let denominator = price.into_inner().checked_mul(settlement_unit)?;
	if denominator == 0 {
		return None;
	}
	mul_div(usd, numerator, denominator, rounding)
}

/// The price at which `size` smallest units of an asset whose whole unit is `unit` of them cost
/// `cost` smallest USD units: a position's entry price; `None` on overflow or a zero size.
pub fn entry_price(
	cost: Balance,
	size: Balance,
	unit: Balance,
	settlement_unit: Balance,
	rounding: Rounding,
) -> Option<Price> {
	let numerator = unit.checked_mul(Price::DIV)?;
	let denominator = size.checked_mul(settlement_unit)?;
	if denominator == 0 {
		return None;
	}
	mul_div(cost, numerator, denominator, rounding).map(Price::from_inner)
}

/// How much a consumer may trust a price.
///
/// A consumer always receives the verdict with the price: a stale or missing price is an
/// answer, never a silent fallback to the last value.
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
pub enum PriceStatus {
	/// Aggregated from a quorum of values younger than the maximum age.
	Fresh,
	/// The last aggregate is older than the maximum age (quorum lost).
	Stale,
	/// The asset's circuit breaker has tripped; the price must not be used to add risk.
	Frozen,
	/// No aggregate has ever been produced for this asset.
	Missing,
}

/// A price together with the time it was aggregated and its freshness verdict.
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
pub struct PriceInfo {
	/// The aggregated price (zero when [`PriceStatus::Missing`]).
	pub price: Price,
	/// The price's time: that of the oldest value of the quorum it rests on, not of its
	/// aggregation (zero when [`PriceStatus::Missing`]). The price is stale once this is older
	/// than the oracle's maximum age.
	pub updated_at: Moment,
	/// Whether the price may be used.
	pub status: PriceStatus,
}

impl PriceInfo {
	/// The answer for an asset that has never been priced.
	pub fn missing() -> Self {
		Self { price: Price::from_inner(0), updated_at: 0, status: PriceStatus::Missing }
	}

	/// The price, only when it is [`PriceStatus::Fresh`].
	pub fn fresh(&self) -> Option<Price> {
		(self.status == PriceStatus::Fresh).then_some(self.price)
	}
}

/// Slow-moving statistics of an asset's price, for risk parameters (e.g. volatility-based
/// margin).
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
pub struct PriceStats {
	/// Exponential moving average of the aggregate price.
	pub index: Price,
	/// Realized volatility: annualized standard deviation of log returns (1 = 100%).
	pub volatility: FixedU128,
}

/// Read access to oracle prices (implemented by the oracle pallet).
pub trait PriceProvider {
	/// The current price of `asset` with its freshness verdict.
	fn price(asset: AssetId) -> PriceInfo;

	/// The index price and realized volatility of `asset`, once it has been priced.
	fn stats(asset: AssetId) -> Option<PriceStats>;
}

/// Who still depends on an asset's price (implemented by margin: its markets and collateral).
/// The oracle refuses to stop pricing an asset in use.
pub trait PriceUsers {
	/// Whether anything still needs `asset`'s price.
	fn uses(asset: AssetId) -> bool;

	/// An upper bound of the weight of [`PriceUsers::uses`].
	fn uses_weight() -> frame_support::weights::Weight;
}

impl PriceUsers for () {
	fn uses(_: AssetId) -> bool {
		false
	}

	fn uses_weight() -> frame_support::weights::Weight {
		frame_support::weights::Weight::zero()
	}
}

/// Where an account stands against its margin requirements.
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
pub enum HealthState {
	/// Equity at or above the initial margin requirement.
	Healthy,
	/// Equity between maintenance and initial margin: the account may only reduce risk.
	Restricted,
	/// Equity below the maintenance margin requirement.
	Liquidatable,
	/// Equity below zero.
	Bankrupt,
}

impl HealthState {
	/// Whether the account may be liquidated in this state.
	pub fn is_liquidatable(&self) -> bool {
		matches!(self, HealthState::Liquidatable | HealthState::Bankrupt)
	}
}

/// One position to close (see [`MarginLiquidator::reduce_positions`]).
#[derive(Clone, Copy, Encode, Decode, Eq, PartialEq, Debug, TypeInfo)]
pub struct Close {
	/// The market of the position.
	pub market: MarketId,
	/// The most units to close.
	pub amount: Balance,
	/// The price to close at.
	pub price: Price,
}

/// What one liquidation step did to a position (see [`MarginLiquidator::reduce_positions`]).
#[derive(Clone, Copy, Encode, Decode, Eq, PartialEq, Debug, TypeInfo)]
pub struct Reduction {
	/// Units closed.
	pub closed: Balance,
	/// The signed size left.
	pub remaining: i128,
	/// PnL realized by the closed part, in USD.
	pub realized: i128,
	/// USD moved from the account to the beneficiary.
	pub penalty: Balance,
}

/// An account's equity and requirements at fresh prices, in USD.
#[derive(Clone, Copy, Encode, Decode, Eq, PartialEq, Debug, TypeInfo)]
pub struct Margins {
	/// Cash + weighted collateral + unrealized PnL.
	pub equity: i128,
	/// Initial margin requirement.
	pub initial: Balance,
	/// Maintenance margin requirement.
	pub maintenance: Balance,
}

impl Margins {
	/// The health state these margins give.
	pub fn state(&self) -> HealthState {
		if self.equity < 0 {
			HealthState::Bankrupt
		} else if self.equity.unsigned_abs() < self.maintenance {
			HealthState::Liquidatable
		} else if self.equity.unsigned_abs() < self.initial {
			HealthState::Restricted
		} else {
			HealthState::Healthy
		}
	}
}

/// One position as liquidation sees it.
#[derive(Clone, Copy, Encode, Decode, Eq, PartialEq, Debug, TypeInfo)]
pub struct PositionRisk {
	/// The market.
	pub market: MarketId,
	/// Signed size: positive long, negative short.
	pub size: i128,
	/// Smallest units of size per whole unit of the market's asset.
	pub unit: Balance,
	/// The market's fresh price.
	pub price: Price,
	/// The USD the position cost to open (its entry notional).
	pub cost: Balance,
	/// Its unrealized PnL at the fresh price, in USD.
	pub pnl: i128,
	/// The position's initial margin.
	pub initial: Balance,
	/// The position's maintenance margin.
	pub maintenance: Balance,
	/// The market's liquidation discount.
	pub discount: sp_runtime::Perbill,
	/// The largest share of the position one partial liquidation may close.
	pub max_partial: sp_runtime::Perbill,
}

/// A non-settlement collateral holding as liquidation sees it.
#[derive(Clone, Copy, Encode, Decode, Eq, PartialEq, Debug, TypeInfo)]
pub struct CollateralRisk {
	/// The asset.
	pub asset: AssetId,
	/// The amount held, in the asset's smallest unit.
	pub amount: Balance,
	/// Smallest units per whole unit of the asset.
	pub unit: Balance,
	/// The asset's fresh price.
	pub price: Price,
}

/// An account as liquidation values it, from one valuation at fresh prices: what
/// [`MarginReader::risk`] reads and what every [`MarginLiquidator::reduce_positions`] leaves.
#[derive(Clone, Encode, Decode, Eq, PartialEq, Debug, TypeInfo)]
pub struct AccountRisk {
	/// Equity and requirements.
	pub margins: Margins,
	/// USD cash (negative: debt).
	pub cash: i128,
	/// The positions, largest maintenance margin first (ties by market id).
	pub positions: alloc::vec::Vec<PositionRisk>,
	/// The non-settlement collateral whose price is fresh, asset id order: what can go to
	/// auction.
	pub collateral: alloc::vec::Vec<CollateralRisk>,
	/// Whether it also holds non-settlement collateral without a fresh price: its debt is not
	/// a shortfall while it does.
	pub unpriced_collateral: bool,
	/// How many collateral auctions are open for its debt.
	pub open_auctions: u32,
	/// Whether a liquidation of it is under way: one left it below its maintenance margin
	/// times one plus the exit buffer, and it has not been above that since. Such an account
	/// stays liquidatable while it is there, so that it cannot leave liquidation on noise just
	/// above its maintenance margin.
	pub in_liquidation: bool,
}

impl AccountRisk {
	/// Whether the account holds any non-settlement collateral, priced or not.
	pub fn holds_collateral(&self) -> bool {
		self.unpriced_collateral || !self.collateral.is_empty()
	}
}

/// What [`MarginLiquidator::reduce_positions`] did: one reduction per close, in order, and the
/// account after them.
#[derive(Clone, Encode, Decode, Eq, PartialEq, Debug, TypeInfo)]
pub struct Reduced {
	/// One per close.
	pub reductions: alloc::vec::Vec<Reduction>,
	/// The account after the closes (`None` when it cannot be valued at fresh prices, or
	/// holds nothing any more): the valuation its risk-index entries were recomputed from.
	pub after: Option<AccountRisk>,
}

/// One entry of a market's profit order (see [`MarginReader::ranked_after`]).
#[derive(Clone, Eq, PartialEq, Debug)]
pub struct Ranked<AccountId> {
	/// The entry price it ranks by.
	pub entry: Price,
	/// Its holder.
	pub who: AccountId,
	/// Whether it is the holder's open position. A liquidation that closes a position leaves
	/// its entry behind (one write less an account); such a stale entry ranks nothing and is
	/// removed by [`MarginLiquidator::prune_ranked`].
	pub live: bool,
}

/// Read access to margin accounts for discovery, previews and the waterfall's decisions
/// (implemented by the margin pallet).
pub trait MarginReader<AccountId> {
	/// What the valuations of one call share (the parameters and prices they read, each read
	/// once): a batch values its accounts on one `Quotes`, made fresh for the call and dropped
	/// with it. A lone valuation takes `&mut Default::default()`.
	type Quotes: Default;

	/// Up to `limit` accounts that may be liquidatable, found through the risk index; each
	/// must be re-checked with [`MarginReader::risk`].
	fn candidates(limit: u32) -> alloc::vec::Vec<AccountId>;

	/// `who` as liquidation values it, or `None` without an account, without a fresh price of
	/// a market it holds, or on overflow. Collateral without a fresh price counts for less and
	/// never blocks the verdict.
	fn risk(who: &AccountId, quotes: &mut Self::Quotes) -> Option<AccountRisk>;

	/// Every market, by id, with its asset's price if it is fresh.
	fn market_prices() -> alloc::vec::Vec<(MarketId, Option<Price>)>;

	/// The position after `after` (an entry price and holder given by an earlier call, or
	/// `None` for the first) in the profit order of `market`'s longs (`long`) or shorts: by
	/// entry price, lowest first for longs and highest first for shorts, which at any one price
	/// is by unrealized PnL over entry cost, best first. Stale entries (see [`Ranked`]) are
	/// in the order too, each at the entry of the position it was.
	fn ranked_after(
		market: MarketId,
		long: bool,
		after: Option<&(Price, AccountId)>,
	) -> Option<Ranked<AccountId>>;

	/// `who`'s USD cash (negative: debt); zero without an account.
	fn cash(who: &AccountId) -> i128;

	/// `who`'s holding of collateral `asset`.
	fn collateral(who: &AccountId, asset: AssetId) -> Balance;

	/// How many collateral auctions are open for `who`'s debt (see
	/// [`MarginLiquidator::auction_collateral`]).
	fn open_auctions(who: &AccountId) -> u32;

	/// Every account with an auction open, and how many (for checks: it reads every account).
	fn auction_counts() -> alloc::vec::Vec<(AccountId, u32)>;

	/// Smallest USD units per whole USD.
	fn settlement_unit() -> Balance;

	/// The most positions an account may hold.
	fn max_positions() -> u32;
}

/// The ledger moves of liquidation (implemented by the margin pallet, used by the liquidation
/// pallet). Every operation moves value inside the margin ledger, so the books stay exact, and
/// keeps the risk index exact itself.
pub trait MarginLiquidator<AccountId>: MarginReader<AccountId> {
	/// For each of `closes`, in order: closes up to its `amount` units of `who`'s position in
	/// its market (towards zero) at its price with no trading fee, settles the realized PnL
	/// with the vault, and moves `penalty` of the closed notional from `who`'s USD to
	/// `beneficiary`'s. All or nothing. `who` is valued once afterwards, and that valuation is
	/// returned; margin re-indexes the account from it, or, while it is still liquidatable,
	/// keeps it found at any price until its liquidation goes on. Markets and prices come from
	/// `quotes`.
	fn reduce_positions(
		who: &AccountId,
		closes: &[Close],
		penalty: sp_runtime::Perbill,
		beneficiary: &AccountId,
		quotes: &mut Self::Quotes,
	) -> Result<Reduced, sp_runtime::DispatchError>;

	/// Removes the entry of `who` at `entry` from the profit order of `market`'s longs
	/// (`long`) or shorts if it is stale; returns whether it was.
	fn prune_ranked(market: MarketId, long: bool, entry: Price, who: &AccountId) -> bool;

	/// Moves `amount` of `who`'s collateral `asset` to `holder`'s, the account that holds the
	/// lots of auctions, and counts one more auction open for `who` (in its account record,
	/// which the seizure writes anyway).
	fn auction_collateral(
		who: &AccountId,
		asset: AssetId,
		amount: Balance,
		holder: &AccountId,
	) -> sp_runtime::DispatchResult;

	/// Counts one auction fewer open for `owner`; returns how many stay open.
	fn auction_closed(owner: &AccountId) -> Result<u32, sp_runtime::DispatchError>;

	/// Moves `amount` of `who`'s collateral `asset` to `to`'s collateral.
	fn seize_collateral(
		who: &AccountId,
		asset: AssetId,
		amount: Balance,
		to: &AccountId,
	) -> sp_runtime::DispatchResult;

	/// Covers `who`'s negative USD from `from`'s USD, as far as `from` has and at most `limit`;
	/// returns the part of the shortfall left uncovered.
	fn cover_shortfall(
		who: &AccountId,
		from: &AccountId,
		limit: Balance,
	) -> Result<Balance, sp_runtime::DispatchError>;

	/// The protocol vault takes over `who`'s negative USD (the loss is socialized to the
	/// vault, never to another account); returns the amount absorbed.
	fn absorb_shortfall(who: &AccountId) -> Result<Balance, sp_runtime::DispatchError>;

	/// Moves `amount` USD from `from`'s cash to `to`'s. `from` must hold the cash and, when it
	/// has positions, stay at or above its initial margin.
	fn transfer_cash(
		from: &AccountId,
		to: &AccountId,
		amount: Balance,
	) -> sp_runtime::DispatchResult;
}

#[cfg(test)]
mod tests {
	use super::*;
	use proptest::prelude::*;

	fn rounding() -> impl Strategy<Value = Rounding> {
		prop_oneof![
			Just(Rounding::Up),
			Just(Rounding::Down),
			Just(Rounding::NearestPrefUp),
			Just(Rounding::NearestPrefDown),
		]
	}

	/// Operands of every size, small ones (whose product fits) as often as large ones.
	fn operand() -> impl Strategy<Value = u128> {
		prop_oneof![0..=u64::MAX as u128, any::<u128>(), 0u128..1_000]
	}

	proptest! {
		#![proptest_config(ProptestConfig::with_cases(20_000))]
		#[test]
		fn mul_div_is_the_256_bit_result(
			a in operand(),
			b in operand(),
			c in operand(),
			rounding in rounding(),
		) {
			prop_assert_eq!(
				mul_div(a, b, c, rounding),
				multiply_by_rational_with_rounding(a, b, c, rounding)
			);
		}
	}

	#[test]
	fn mul_div_rounds_halves_as_asked() {
		// 7 × 3 / 2 = 10.5; 5 × 1 / 3 = 1.67; 4 × 1 / 3 = 1.33.
		let cases = [
			(7, 3, 2, Rounding::NearestPrefUp, 11),
			(7, 3, 2, Rounding::NearestPrefDown, 10),
			(5, 1, 3, Rounding::NearestPrefDown, 2),
			(4, 1, 3, Rounding::NearestPrefUp, 1),
			(4, 1, 3, Rounding::Up, 2),
			(5, 1, 3, Rounding::Down, 1),
		];
		for (a, b, c, rounding, expected) in cases {
			assert_eq!(mul_div(a, b, c, rounding), Some(expected), "{a} × {b} / {c}");
		}
		assert_eq!(mul_div(1, 1, 0, Rounding::Down), None);
		assert_eq!(mul_div(u128::MAX, 1, 1, Rounding::Up), Some(u128::MAX));
		assert_eq!(mul_div(u128::MAX, 3, 2, Rounding::Down), None);
	}

	#[test]
	fn only_a_fresh_price_is_handed_out_without_asking() {
		let mut info =
			PriceInfo { price: Price::from_u32(42), updated_at: 7, status: PriceStatus::Fresh };
		assert_eq!(info.fresh(), Some(Price::from_u32(42)));
		for status in [PriceStatus::Stale, PriceStatus::Frozen, PriceStatus::Missing] {
			info.status = status;
			assert_eq!(info.fresh(), None);
		}
		assert_eq!(PriceInfo::missing().fresh(), None);
	}

	#[test]
	fn units_for_usd_inverts_usd_value_rounding_as_asked() {
		// 0.5 BTC (8 decimals) at 65,000.5 is 32,500.25 USD (6 decimals).
		let price = Price::from_rational(130_001, 2);
		let value = usd_value(50_000_000, 100_000_000, price, 1_000_000, Rounding::Down);
		assert_eq!(value, Some(32_500_250_000));
		let units = units_for_usd(32_500_250_000, 100_000_000, price, 1_000_000, Rounding::Down);
		assert_eq!(units, Some(50_000_000));
		// One USD unit more buys a fraction of a satoshi: up rounds it in, down leaves it out.
		let up = units_for_usd(32_500_250_001, 100_000_000, price, 1_000_000, Rounding::Up);
		assert_eq!(up, Some(50_000_001));
		assert_eq!(
			units_for_usd(1, 100_000_000, Price::from_inner(0), 1_000_000, Rounding::Up),
			None
		);
		assert_eq!(usd_value(u128::MAX, 1, price, 1_000_000, Rounding::Up), None);
	}

	#[test]
	fn entry_price_is_cost_per_whole_unit_rounded_as_asked() {
		// 0.3 BTC (8 decimals) bought for 19,500.000001 USD (6 decimals): 65,000.00000333… USD.
		let down = entry_price(19_500_000_001, 30_000_000, 100_000_000, 1_000_000, Rounding::Down);
		let up = entry_price(19_500_000_001, 30_000_000, 100_000_000, 1_000_000, Rounding::Up);
		assert_eq!(down, Some(Price::from_inner(65_000_000_003_333_333_333_333)));
		assert_eq!(up, Some(Price::from_inner(65_000_000_003_333_333_333_334)));
		// Valuing the size at the entry price gives the cost back.
		let back = usd_value(30_000_000, 100_000_000, up.unwrap(), 1_000_000, Rounding::Down);
		assert_eq!(back, Some(19_500_000_001));
		assert_eq!(entry_price(1, 0, 100_000_000, 1_000_000, Rounding::Up), None);
	}

	#[test]
	fn liquidatable_states() {
		assert!(!HealthState::Healthy.is_liquidatable());
		assert!(!HealthState::Restricted.is_liquidatable());
		assert!(HealthState::Liquidatable.is_liquidatable());
		assert!(HealthState::Bankrupt.is_liquidatable());
	}
}
