//! Stage (a)'s sizing, pure maths without storage: what closing part of a position does to an
//! account's margins, and the smallest close that restores the initial margin plus the buffer,
//! in closed form (as Drift sizes the base amount that covers a margin shortage).
//!
//! Closing `x` of a position's `S` units at the liquidation price costs the account the
//! discount on the closed notional at the oracle price and the penalty on it at the close
//! price, and frees `x / S` of the position's initial (and maintenance) margin. With `G` what
//! closing the whole position gains against the target (its initial margin times one plus the
//! buffer, less the cost of closing it all), closing `x` gains `G × x / S`, so the shortage
//! `(I × (1 + b) − E)` is covered by `x = shortage × S / G`. The prediction rounds against the
//! account (costs up, freed margin down); the closed form adds [`ROUNDING_SLACK`] to the
//! shortage so that its size always restores by the prediction; one unit less is within twice
//! the slack of the target by the exact maths (the slack, and the rounding of `G` against the
//! account).

use perp_primitives::{mul_div, usd_value, Balance, Margins, PositionRisk, Price};
use sp_runtime::{
	traits::{One, Saturating},
	FixedU128, Perbill, Rounding,
};

/// The smallest USD units the prediction's roundings can take from the exact maths: two costs
/// rounded up (each on a notional rounded up), the freed margin rounded down, and the target's
/// buffer rounded up.
pub const ROUNDING_SLACK: Balance = 6;

/// What a liquidation charges and aims for, as stage (a) plans with them.
#[derive(Clone, Copy, Debug)]
pub struct Terms {
	/// The penalty on the closed notional at the close price.
	pub penalty: Perbill,
	/// Restored means equity at least the initial margin times one plus this.
	pub buffer: Perbill,
	/// The settlement asset's smallest units per USD.
	pub settlement_unit: Balance,
}

/// How much of a position the closed form closes.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Restore {
	/// The account is restored already: nothing.
	Nothing,
	/// These many units, fewer than the whole position, restore the account.
	Units(Balance),
	/// Even the whole position falls short: all of it, and the next position goes on.
	All,
	/// Closing this position costs at least what it frees against the target: no share of it
	/// brings the account closer.
	Useless,
}

/// The price a liquidated position closes at: the oracle price less the discount for a long
/// (the liquidator buys cheaper), plus it for a short.
pub fn liquidation_price(price: Price, discount: Perbill, long: bool) -> Price {
	let discount = FixedU128::from_perbill(discount);
	let factor = if long {
		FixedU128::one().saturating_sub(discount)
	} else {
		FixedU128::one().saturating_add(discount)
	};
	// (A price beyond `FixedU128` is no price a market lists: clamped.)
	price.saturating_mul(factor)
}

/// What closing `amount` units of `position` at `price` (its liquidation price) takes from
/// the account's equity: the discount on the notional at the oracle price, and the penalty on
/// the notional at the close price, both rounded up.
pub fn closing_cost(
	position: &PositionRisk,
	amount: Balance,
	price: Price,
	terms: &Terms,
) -> Balance {
	let notional = |price| {
		usd_value(amount, position.unit, price, terms.settlement_unit, Rounding::Up)
			.unwrap_or(Balance::MAX)
	};
	// (A cost beyond 128 bits is more than any equity: clamped, it still says "too dear".)
	position
		.discount
		.mul_ceil(notional(position.price))
		.saturating_add(terms.penalty.mul_ceil(notional(price)))
}

/// `part` of `whole`, as `amount` is of `size`, rounded down.
fn share_of(whole: Balance, amount: Balance, size: Balance) -> Balance {
	mul_div(whole, amount.min(size), size, Rounding::Down).unwrap_or(0)
}

/// The margins `margins` become once `amount` units of `position` close at `price`: equity
/// loses what the close costs ([`closing_cost`]); the requirements lose the closed share of the
/// position's, rounded down. (Tiers only rise with notional, so what is left of a requirement
/// is at most that share of it: the prediction never overstates recovery.)
pub fn after_step(
	margins: &Margins,
	position: &PositionRisk,
	amount: Balance,
	price: Price,
	terms: &Terms,
) -> Margins {
	let size = position.size.unsigned_abs();
	let cost = closing_cost(position, amount, price, terms);
	// (Equity only falls here, and a cost beyond `i128` is beyond any equity: clamped.)
	Margins {
		equity: margins.equity.saturating_sub(i128::try_from(cost).unwrap_or(i128::MAX)),
		initial: margins.initial.saturating_sub(share_of(position.initial, amount, size)),
		maintenance: margins.maintenance.saturating_sub(share_of(
			position.maintenance,
			amount,
			size,
		)),
	}
}

/// The equity the account must reach to be restored: the initial margin times one plus the
/// buffer, rounded up.
pub fn target(margins: &Margins, terms: &Terms) -> Balance {
	margins.initial.saturating_add(terms.buffer.mul_ceil(margins.initial))
}

/// Equity back at the initial margin plus the buffer.
pub fn is_restored(margins: &Margins, terms: &Terms) -> bool {
	margins.equity >= 0 && margins.equity.unsigned_abs() >= target(margins, terms)
}

/// Closing a whole position, worked out once for the plan: the full-liquidation check and the
/// closed form both use it.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct WholeClose {
	/// The position's liquidation price ([`liquidation_price`]).
	pub price: Price,
	/// What closing all of it costs ([`closing_cost`]).
	pub cost: Balance,
	/// What closing all of it gains against the target, in USD: its initial margin times one
	/// plus the buffer, less `cost`; `None` when that is not positive (see
	/// [`Restore::Useless`]). Rounded against the account, so that the closed form never
	/// falls short.
	pub gain: Option<Balance>,
}

/// [`WholeClose`] of `position`.
pub fn whole_close(position: &PositionRisk, terms: &Terms) -> WholeClose {
	let price = liquidation_price(position.price, position.discount, position.size > 0);
	let cost = closing_cost(position, position.size.unsigned_abs(), price, terms);
	let freed = position.initial.saturating_add(terms.buffer.mul_floor(position.initial));
	WholeClose { price, cost, gain: freed.checked_sub(cost).filter(|gain| *gain > 0) }
}

/// The smallest close of `position` (`whole` its [`whole_close`]) that brings `margins` back to
/// the target, by the closed form (see the module's docs): a number of units below the
/// position's size, or all of it when that is not enough, or nothing when closing it cannot
/// help.
pub fn to_restore(
	margins: &Margins,
	position: &PositionRisk,
	whole: &WholeClose,
	terms: &Terms,
) -> Restore {
	if is_restored(margins, terms) {
		return Restore::Nothing;
	}
	let Some(gain) = whole.gain else { return Restore::Useless };
	let size = position.size.unsigned_abs();
	// Equity is below the target (or negative): the shortage is the distance between them.
	let equity = i128::try_from(target(margins, terms)).unwrap_or(i128::MAX);
	let shortage = equity.saturating_sub(margins.equity).unsigned_abs();
	match mul_div(shortage.saturating_add(ROUNDING_SLACK), size, gain, Rounding::Up) {
		Some(units) if units < size => Restore::Units(units.max(1)),
		_ => Restore::All,
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use proptest::prelude::*;
	use sp_runtime::FixedPointNumber;

	const SU: Balance = 1_000_000;

	fn terms(penalty: u32, buffer: u32) -> Terms {
		Terms {
			penalty: Perbill::from_parts(penalty),
			buffer: Perbill::from_parts(buffer),
			settlement_unit: SU,
		}
	}

	/// A position of `size` units (a whole unit is `unit` of them) at `price` USD, with
	/// `initial` and `maintenance` as shares (parts per billion) of its notional.
	fn position(
		size: i128,
		unit: Balance,
		price: u64,
		initial: u32,
		maintenance: u32,
		discount: u32,
	) -> PositionRisk {
		let price = Price::saturating_from_integer(price);
		let notional = usd_value(size.unsigned_abs(), unit, price, SU, Rounding::Up).unwrap();
		PositionRisk {
			market: 0,
			size,
			unit,
			price,
			cost: notional,
			pnl: 0,
			initial: Perbill::from_parts(initial).mul_ceil(notional),
			maintenance: Perbill::from_parts(maintenance).mul_ceil(notional),
			discount: Perbill::from_parts(discount),
			max_partial: Perbill::from_percent(25),
		}
	}

	/// The exact (unrounded) distance of the account from the target after closing `amount`:
	/// positive when restored.
	fn exact_surplus(
		margins: &Margins,
		p: &PositionRisk,
		amount: Balance,
		price: Price,
		terms: &Terms,
	) -> f64 {
		let size = p.size.unsigned_abs() as f64;
		let x = amount as f64;
		let notional = |price: Price| x * price.to_float() * SU as f64 / p.unit as f64;
		let cost = p.discount.deconstruct() as f64 / 1e9 * notional(p.price)
			+ terms.penalty.deconstruct() as f64 / 1e9 * notional(price);
		let initial = margins.initial as f64 - p.initial as f64 * x / size;
		let buffer = terms.buffer.deconstruct() as f64 / 1e9;
		margins.equity as f64 - cost - initial * (1.0 + buffer)
	}

	#[test]
	fn the_closed_form_restores_an_account_just_below_maintenance() {
		// 10 BTC at 60,000 USD (600,000 USD): initial 5%, maintenance 2.5%, discount 1%,
		// penalty 1%, buffer 10%; equity 14,000, below the 15,000 of maintenance.
		let terms = terms(10_000_000, 100_000_000);
		let p = position(10 * 100_000_000, 100_000_000, 60_000, 50_000_000, 25_000_000, 10_000_000);
		let margins =
			Margins { equity: 14_000 * SU as i128, initial: p.initial, maintenance: p.maintenance };
		let price = liquidation_price(p.price, p.discount, true);
		let Restore::Units(x) = to_restore(&margins, &p, &whole_close(&p, &terms), &terms) else {
			panic!("partial")
		};
		// The shortage, 33,000 of target less 14,000, over what closing it all gains (the
		// 33,000 it frees less 6,000 of discount and 5,940 of penalty): 19,000 / 21,060 of the
		// position, 90.22%.
		assert_eq!(x, 902_184_236);
		let after = after_step(&margins, &p, x, price, &terms);
		assert!(is_restored(&after, &terms));
		assert!(!is_restored(&after_step(&margins, &p, x - 1_000, price, &terms), &terms));
	}

	#[test]
	fn a_position_whose_close_costs_more_than_it_frees_is_useless() {
		// Initial 2% against a 1% discount and a 1% penalty: closing frees 2.2%, costs 1.99%.
		let terms = terms(10_000_000, 100_000_000);
		let p = position(1_000, 1, 100, 20_000_000, 10_000_000, 10_000_000);
		assert!(whole_close(&p, &terms).gain.is_some());
		// Initial 1.5%: closing frees 1.65% and costs 1.99%.
		let p = position(1_000, 1, 100, 15_000_000, 10_000_000, 10_000_000);
		let margins = Margins { equity: 1, initial: p.initial, maintenance: p.maintenance };
		assert_eq!(to_restore(&margins, &p, &whole_close(&p, &terms), &terms), Restore::Useless);
	}

	#[test]
	fn a_restored_account_closes_nothing_and_a_deep_one_closes_all() {
		let terms = terms(10_000_000, 100_000_000);
		let p = position(-500, 1, 2_000, 50_000_000, 25_000_000, 10_000_000);
		let restored =
			Margins { equity: 100_000_000_000, initial: p.initial, maintenance: p.maintenance };
		assert_eq!(to_restore(&restored, &p, &whole_close(&p, &terms), &terms), Restore::Nothing);
		let deep = Margins { equity: -1, initial: p.initial, maintenance: p.maintenance };
		assert_eq!(to_restore(&deep, &p, &whole_close(&p, &terms), &terms), Restore::All);
	}

	proptest! {
		#![proptest_config(ProptestConfig::with_cases(20_000))]

		/// The closed form's size restores the account by the prediction, and one unit less
		/// is within twice the rounding slack of the target by the exact maths (the slack,
		/// and what rounding `G` against the account adds): it never closes more than one
		/// unit beyond what the exact maths needs with that many smallest USD units to spare.
		#[test]
		fn the_closed_form_restores_within_one_unit_of_rounding(
			exponent in 0u32..12,
			whole in 1u128..1_000_000,
			price in 1u64..200_000,
			maintenance in 1_000_000u32..150_000_000,
			extra in 0u32..150_000_000,
			discount in 0u32..50_000_000,
			penalty in 0u32..50_000_000,
			buffer in 0u32..500_000_000,
			depth in 0u32..1_000_000_000,
			long in any::<bool>(),
		) {
			let unit = 10u128.pow(exponent);
			let size = i128::try_from(whole * unit / 100 + 1).unwrap();
			let size = if long { size } else { -size };
			let p = position(size, unit, price, maintenance + extra, maintenance, discount);
			let terms = terms(penalty, buffer);
			// Equity somewhere below maintenance, by `depth` of it.
			let equity = p.maintenance as i128
				- Perbill::from_parts(depth).mul_floor(p.maintenance) as i128;
			let margins = Margins { equity, initial: p.initial, maintenance: p.maintenance };
			let price = liquidation_price(p.price, p.discount, long);
			let all = p.size.unsigned_abs();
			match to_restore(&margins, &p, &whole_close(&p, &terms), &terms) {
				Restore::Units(x) => {
					prop_assert!(x > 0 && x < all);
					prop_assert!(is_restored(&after_step(&margins, &p, x, price, &terms), &terms));
					let short_of = exact_surplus(&margins, &p, x - 1, price, &terms);
					prop_assert!(short_of < 2.0 * ROUNDING_SLACK as f64, "{short_of}");
				},
				Restore::All => {
					// Nothing less than the whole position restores, by the exact maths with
					// the slack.
					let surplus = exact_surplus(&margins, &p, all - 1, price, &terms);
					prop_assert!(surplus < 2.0 * ROUNDING_SLACK as f64, "{surplus}");
				},
				Restore::Useless => prop_assert!(whole_close(&p, &terms).gain.is_none()),
				Restore::Nothing => prop_assert!(is_restored(&margins, &terms)),
			}
		}
	}
}
