//! Pure margin maths, no storage: values, PnL, tiered requirements, health and liquidation
//! prices. Amounts are integers in the smallest unit of their asset; USD amounts are in the
//! smallest unit of the settlement asset (`settlement_unit` of them make one USD); prices are
//! USD per whole unit of an asset, in fixed point.
//!
//! Every rounding favours the protocol: collateral values and PnL round down, requirements,
//! fees and entry costs round up. Nothing here panics; an overflow is `None`, which callers
//! treat as the unsafe outcome.

use crate::types::Tier;
use perp_primitives::{mul_div, Balance, HealthState, Price};
use sp_runtime::{
	traits::{CheckedAdd, CheckedSub, One, Zero},
	FixedPointNumber, Perbill, Rounding,
};

/// A signed USD amount (cash balances, PnL, equity).
pub type SignedBalance = i128;

/// The USD value of `amount` smallest units of an asset whose whole unit is `unit` of them
/// (shared with the liquidation pallet through `perp-primitives`).
pub use perp_primitives::usd_value as value;

/// The signed USD value of a position of `size` units, rounded towards minus infinity: what
/// the account is credited with never exceeds the exact value.
pub fn signed_value_floor(
	size: i128,
	unit: Balance,
	price: Price,
	settlement_unit: Balance,
) -> Option<SignedBalance> {
	if size >= 0 {
		value(size.unsigned_abs(), unit, price, settlement_unit, Rounding::Down)?
			.try_into()
			.ok()
	} else {
		let v: i128 = value(size.unsigned_abs(), unit, price, settlement_unit, Rounding::Up)?
			.try_into()
			.ok()?;
		Some(-v)
	}
}

/// The signed USD value of `size` units rounded towards plus infinity: the entry cost booked
/// when a position grows, so that its future PnL is never overstated.
pub fn signed_value_ceil(
	size: i128,
	unit: Balance,
	price: Price,
	settlement_unit: Balance,
) -> Option<SignedBalance> {
	signed_value_floor(size.checked_neg()?, unit, price, settlement_unit)?.checked_neg()
}

/// The requirement of a position of USD `notional` under progressive tiers: each tier's ratio
/// applies to the part of the notional inside that tier (like tax brackets), the last tier to
/// everything above the tiers before it. Continuous and non-decreasing in the notional, so
/// crossing a tier boundary never makes an account healthier. Rounded up.
pub fn requirement(notional: Balance, tiers: &[Tier], ratio: fn(&Tier) -> Perbill) -> Balance {
	let mut total: Balance = 0;
	let mut lower: Balance = 0;
	let last = tiers.len().saturating_sub(1);
	for (i, tier) in tiers.iter().enumerate() {
		if notional <= lower {
			break;
		}
		let upper = if i == last { notional } else { tier.up_to.min(notional) };
		let width = upper.saturating_sub(lower);
		total = total.saturating_add(ratio(tier).mul_ceil(width));
		lower = upper;
	}
	total
}

/// The initial margin ratio of a tier.
pub fn initial(tier: &Tier) -> Perbill {
	tier.initial
}

/// The maintenance margin ratio of a tier.
pub fn maintenance(tier: &Tier) -> Perbill {
	tier.maintenance
}

/// A collateral holding, valued at its price with its haircut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CollateralLine {
	/// The amount held, in the asset's smallest unit.
	pub amount: Balance,
	/// Smallest units per whole unit of the asset.
	pub unit: Balance,
	/// The asset's price.
	pub price: Price,
	/// The share of the value that counts towards equity.
	pub weight: Perbill,
}

/// A position, valued at its market's price.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PositionLine<'a> {
	/// Signed size in the smallest unit of the market's asset: positive long, negative short.
	pub size: i128,
	/// Signed USD entry cost of the size held.
	pub cost: SignedBalance,
	/// Smallest units per whole unit of the market's asset.
	pub unit: Balance,
	/// The market's price.
	pub price: Price,
	/// The market's margin tiers.
	pub tiers: &'a [Tier],
}

impl PositionLine<'_> {
	/// The USD notional, rounded up (requirements grow with it).
	pub fn notional(&self, settlement_unit: Balance) -> Option<Balance> {
		value(self.size.unsigned_abs(), self.unit, self.price, settlement_unit, Rounding::Up)
	}

	/// Unrealized PnL: the value at the price less the entry cost, rounded down.
	pub fn pnl(&self, settlement_unit: Balance) -> Option<SignedBalance> {
		signed_value_floor(self.size, self.unit, self.price, settlement_unit)?
			.checked_sub(self.cost)
	}
}

/// An account's equity and requirements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Health {
	/// Cash + weighted collateral + unrealized PnL.
	pub equity: SignedBalance,
	/// Sum of the positions' initial margin.
	pub initial: Balance,
	/// Sum of the positions' maintenance margin.
	pub maintenance: Balance,
}

impl From<Health> for perp_primitives::Margins {
	fn from(health: Health) -> Self {
		Self { equity: health.equity, initial: health.initial, maintenance: health.maintenance }
	}
}

impl Health {
	/// Healthy (≥ initial), Restricted (≥ maintenance), Liquidatable (< maintenance) or
	/// Bankrupt (< 0).
	pub fn state(&self) -> HealthState {
		perp_primitives::Margins::from(*self).state()
	}

	/// Equity less the initial requirement: what may still be withdrawn or risked.
	pub fn free_margin(&self) -> SignedBalance {
		let initial = i128::try_from(self.initial).unwrap_or(i128::MAX);
		self.equity.saturating_sub(initial)
	}
}

/// Evaluates an account: `cash` (signed USD), its collateral and its positions.
pub fn evaluate(
	cash: SignedBalance,
	collateral: &[CollateralLine],
	positions: &[PositionLine],
	settlement_unit: Balance,
) -> Option<Health> {
	let mut health = Health { equity: cash, ..Default::default() };
	for line in collateral {
		let raw = value(line.amount, line.unit, line.price, settlement_unit, Rounding::Down)?;
		let weighted: i128 = line.weight.mul_floor(raw).try_into().ok()?;
		health.equity = health.equity.checked_add(weighted)?;
	}
	for line in positions {
		health.equity = health.equity.checked_add(line.pnl(settlement_unit)?)?;
		let notional = line.notional(settlement_unit)?;
		health.initial = health.initial.checked_add(requirement(notional, line.tiers, initial))?;
		health.maintenance =
			health.maintenance.checked_add(requirement(notional, line.tiers, maintenance))?;
	}
	Some(health)
}

/// Whether the account is below maintenance (or cannot be evaluated: the unsafe verdict).
fn liquidatable(
	cash: SignedBalance,
	collateral: &[CollateralLine],
	positions: &[PositionLine],
	settlement_unit: Balance,
) -> bool {
	evaluate(cash, collateral, positions, settlement_unit)
		.is_none_or(|h| h.state().is_liquidatable())
}

/// The liquidation price of position `index`, every other price held fixed: for a long the
/// highest price at which the account is liquidatable, for a short the lowest, searched in
/// `[0, max_price]` to the last unit of the fixed-point price. `None` when no price in that
/// range makes the account liquidatable, or the position does not exist or is empty.
///
/// Exact because health is monotonic in the position's price: a long gains one unit of value
/// per unit of price and its maintenance grows by at most its ratio, below 100%.
pub fn liquidation_price(
	cash: SignedBalance,
	collateral: &[CollateralLine],
	positions: &[PositionLine],
	index: usize,
	max_price: Price,
	settlement_unit: Balance,
) -> Option<Price> {
	let mut scenario: alloc::vec::Vec<PositionLine> = positions.to_vec();
	let size = scenario.get(index)?.size;
	if size == 0 {
		return None;
	}
	let mut at = |inner: u128| {
		if let Some(line) = scenario.get_mut(index) {
			line.price = Price::from_inner(inner);
		}
		liquidatable(cash, collateral, &scenario, settlement_unit)
	};
	let max = max_price.into_inner();
	// `lo` is liquidatable and `hi` is not for a long; the other way round for a short.
	let (mut lo, mut hi) = (0u128, max);
	let long = size > 0;
	if long {
		if !at(0) {
			return None;
		}
		if at(max) {
			return Some(max_price);
		}
	} else {
		if !at(max) {
			return None;
		}
		if at(0) {
			return Some(Price::zero());
		}
	}
	while hi - lo > 1 {
		let mid = lo + (hi - lo) / 2;
		if at(mid) == long {
			lo = mid;
		} else {
			hi = mid;
		}
	}
	Some(Price::from_inner(if long { lo } else { hi }))
}

/// Splits a position's entry cost when `closed` of its `size` units are closed: the part that
/// leaves with them, rounded towards plus infinity (so realized PnL is never overstated), and
/// the part that stays. `None` when `closed` exceeds the size.
pub fn split_cost(
	cost: SignedBalance,
	size: i128,
	closed: u128,
) -> Option<(SignedBalance, SignedBalance)> {
	let held = size.unsigned_abs();
	if closed > held || held == 0 {
		return None;
	}
	let magnitude = cost.unsigned_abs();
	let part = if cost >= 0 {
		let up = mul_div(magnitude, closed, held, Rounding::Up)?;
		i128::try_from(up).ok()?
	} else {
		let down = mul_div(magnitude, closed, held, Rounding::Down)?;
		-i128::try_from(down).ok()?
	};
	Some((part, cost.checked_sub(part)?))
}

/// Closes `closed` units of a position of `size` units and entry `cost` at `price`: returns the
/// realized PnL (the closed part's value, rounded down, less its share of the cost, rounded
/// up) and the cost that stays with the rest. `None` on overflow or when `closed` exceeds the
/// size.
pub fn realize(
	cost: SignedBalance,
	size: i128,
	closed: u128,
	unit: Balance,
	price: Price,
	settlement_unit: Balance,
) -> Option<(SignedBalance, SignedBalance)> {
	let (part, rest) = split_cost(cost, size, closed)?;
	let closed = i128::try_from(closed).ok()?;
	let closed_signed = if size > 0 { closed } else { closed.checked_neg()? };
	let value = signed_value_floor(closed_signed, unit, price, settlement_unit)?;
	Some((value.checked_sub(part)?, rest))
}

/// `cash` plus `realized` less `charge` (a fee or penalty); `None` on overflow.
pub fn settle(
	cash: SignedBalance,
	realized: SignedBalance,
	charge: Balance,
) -> Option<SignedBalance> {
	cash.checked_add(realized)?.checked_sub(i128::try_from(charge).ok()?)
}

/// The fee on a trade of USD `notional`, rounded up.
pub fn fee(notional: Balance, rate: Perbill) -> Balance {
	rate.mul_ceil(notional)
}

/// A price's bucket on a geometric grid of 256 buckets per doubling (each about 0.27% wide),
/// numbered in price order: the bit length of the fixed-point price, then its next eight bits.
pub fn bucket(price: Price) -> u32 {
	let inner = price.into_inner();
	let bits = 128 - inner.leading_zeros();
	let mantissa = (inner >> bits.saturating_sub(9)) & 0xff;
	(bits << 8) | mantissa as u32
}

/// The exposure of one position to a relative move of its price: the notional (PnL moves one
/// for one) times one plus its largest maintenance ratio (the requirement moves too, at most at
/// that ratio), rounded up.
pub fn position_exposure(notional: Balance, tiers: &[Tier]) -> Balance {
	let steepest = tiers.iter().map(|t| t.maintenance).max().unwrap_or_else(Perbill::one);
	notional.saturating_add(steepest.mul_ceil(notional))
}

/// The relative move δ every price may make at once, in either direction, before an account
/// with maintenance buffer `buffer` (equity − maintenance) and total `exposure` (Σ position
/// exposures + Σ weighted collateral values) can become liquidatable: `buffer / exposure`,
/// rounded down. `None` when the buffer is already negative; `Some(max)` without exposure.
pub fn safe_move(buffer: SignedBalance, exposure: Balance) -> Option<sp_runtime::FixedU128> {
	use sp_runtime::{traits::Bounded, FixedU128};
	if buffer < 0 {
		return None;
	}
	if exposure == 0 {
		return Some(FixedU128::max_value());
	}
	Some(
		FixedU128::checked_from_rational(buffer.unsigned_abs(), exposure)
			.unwrap_or_else(FixedU128::max_value),
	)
}

/// The band `(lower, upper)` around `price` that a relative move below `delta` stays strictly
/// inside: `price × (1 − δ)` rounded up (`None` when δ ≥ 1: no fall reaches it) and
/// `price × (1 + δ)` rounded down (`None` beyond the price range).
pub fn band(price: Price, delta: sp_runtime::FixedU128) -> (Option<Price>, Option<Price>) {
	use sp_runtime::FixedU128;
	let one = FixedU128::one();
	let lower = one.checked_sub(&delta).filter(|d| !d.is_zero()).and_then(|factor| {
		mul_div(price.into_inner(), factor.into_inner(), Price::DIV, Rounding::Up)
	});
	let upper = one.checked_add(&delta).and_then(|factor| {
		mul_div(price.into_inner(), factor.into_inner(), Price::DIV, Rounding::Down)
	});
	(lower.map(Price::from_inner), upper.map(Price::from_inner))
}
