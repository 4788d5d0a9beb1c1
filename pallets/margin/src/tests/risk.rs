//! Properties of the pure margin maths (`crate::risk`).

use crate::{
	risk::{self, CollateralLine, PositionLine},
	Tier,
};
use perp_primitives::{HealthState, Price};
use proptest::prelude::*;
use sp_runtime::{
	traits::{One, Saturating, Zero},
	FixedPointNumber, FixedU128, Perbill,
};

const SU: u128 = 1_000_000;
const UNIT: u128 = 100_000_000;

fn tiers() -> Vec<Tier> {
	vec![
		Tier {
			up_to: 1_000_000 * SU,
			initial: Perbill::from_percent(10),
			maintenance: Perbill::from_percent(5),
		},
		Tier {
			up_to: 5_000_000 * SU,
			initial: Perbill::from_percent(20),
			maintenance: Perbill::from_percent(10),
		},
		Tier {
			up_to: 20_000_000 * SU,
			initial: Perbill::from_percent(40),
			maintenance: Perbill::from_percent(30),
		},
	]
}

fn price(inner: u128) -> Price {
	Price::from_inner(inner)
}

/// The health margin (equity − maintenance) of one position and some cash at `price_inner`.
fn buffer(cash: i128, size: i128, cost: i128, tiers: &[Tier], price_inner: u128) -> i128 {
	let line = PositionLine { size, cost, unit: UNIT, price: price(price_inner), tiers };
	let h = risk::evaluate(cash, &[], &[line], SU).expect("in range");
	h.equity - h.maintenance as i128
}

#[test]
fn tiers_apply_like_brackets() {
	let t = tiers();
	let mm = |n: u128| risk::requirement(n, &t, risk::maintenance);
	assert_eq!(mm(0), 0);
	assert_eq!(mm(1_000_000 * SU), 50_000 * SU);
	assert_eq!(mm(2_000_000 * SU), 50_000 * SU + 100_000 * SU);
	// Above the last bound the last ratio applies.
	assert_eq!(mm(30_000_000 * SU), (50_000 + 400_000 + 7_500_000) * SU);
	// Rounded up: 5% of 1 unit is charged as 1.
	assert_eq!(mm(1), 1);
}

#[test]
fn states_follow_equity_against_requirements() {
	let h = |equity, initial, maintenance| risk::Health { equity, initial, maintenance }.state();
	assert_eq!(h(100, 100, 50), HealthState::Healthy);
	assert_eq!(h(99, 100, 50), HealthState::Restricted);
	assert_eq!(h(50, 100, 50), HealthState::Restricted);
	assert_eq!(h(49, 100, 50), HealthState::Liquidatable);
	assert_eq!(h(0, 0, 0), HealthState::Healthy);
	assert_eq!(h(-1, 0, 0), HealthState::Bankrupt);
}

#[test]
fn a_liquidation_price_on_an_example() {
	// 1 BTC long from 50,000 with 5,000 equity: liquidatable once equity < 5% of notional:
	// 5,000 + (p - 50,000) < 0.05 p  <=>  p < 45,000 / 0.95 = 47,368.42...
	let t = tiers();
	let line = PositionLine {
		size: UNIT as i128,
		cost: 50_000 * SU as i128,
		unit: UNIT,
		price: Price::from_u32(50_000),
		tiers: &t,
	};
	let lp = risk::liquidation_price(
		5_000 * SU as i128,
		&[],
		&[line],
		0,
		Price::from_u32(1_000_000_000),
		SU,
	)
	.unwrap();
	let expected = 45_000.0 / 0.95;
	let got = lp.into_inner() as f64 / 1e18;
	assert!((got - expected).abs() < 0.01, "{got} vs {expected}");
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(200))]

	#[test]
	fn requirements_are_continuous_and_non_decreasing(n in 0u128..40_000_000 * SU, d in 0u128..1_000 * SU) {
		let t = tiers();
		for ratio in [risk::initial as fn(&Tier) -> Perbill, risk::maintenance] {
			let (a, b) = (risk::requirement(n, &t, ratio), risk::requirement(n + d, &t, ratio));
			prop_assert!(b >= a);
			// No jump: at most the largest ratio of the step, plus one unit of rounding per tier.
			prop_assert!(b - a <= Perbill::from_percent(40).mul_ceil(d) + t.len() as u128);
		}
	}

	#[test]
	fn health_falls_as_the_price_moves_against_a_position(
		cash in -1_000_000i128 * SU as i128..10_000_000 * SU as i128,
		size in 1i128..500 * UNIT as i128,
		short in any::<bool>(),
		entry in 1_000u128..200_000,
		a in 1u128..400_000 * 1_000_000_000_000_000_000,
		b in 1u128..400_000 * 1_000_000_000_000_000_000,
	) {
		let t = tiers();
		let size = if short { -size } else { size };
		let cost = risk::signed_value_ceil(size, UNIT, Price::from_u32(entry as u32), SU).unwrap();
		let (low, high) = (a.min(b), a.max(b));
		let (at_low, at_high) = (buffer(cash, size, cost, &t, low), buffer(cash, size, cost, &t, high));
		if short {
			prop_assert!(at_high <= at_low, "short: {at_high} > {at_low}");
		} else {
			prop_assert!(at_low <= at_high, "long: {at_low} > {at_high}");
		}
	}

	#[test]
	fn the_liquidation_price_sits_on_the_maintenance_boundary(
		cash in 0i128..2_000_000 * SU as i128,
		size in 1i128..100 * UNIT as i128,
		short in any::<bool>(),
		entry in 1_000u32..200_000,
		dot in 0u128..1_000_000,
	) {
		let t = tiers();
		let size = if short { -size } else { size };
		let entry = Price::from_u32(entry);
		let cost = risk::signed_value_ceil(size, UNIT, entry, SU).unwrap();
		let collateral = [CollateralLine { amount: dot * 10_000_000_000, unit: 10_000_000_000, price: Price::from_u32(5), weight: Perbill::from_percent(80) }];
		let line = PositionLine { size, cost, unit: UNIT, price: entry, tiers: &t };
		let max = Price::from_u32(1_000_000_000);
		let liquidatable = |inner: u128| {
			let l = PositionLine { price: price(inner), ..line };
			risk::evaluate(cash, &collateral, &[l], SU).unwrap().state().is_liquidatable()
		};
		match risk::liquidation_price(cash, &collateral, &[line], 0, max, SU) {
			Some(lp) => {
				let lp = lp.into_inner();
				prop_assert!(liquidatable(lp));
				// One unit of price towards safety, and the account is not liquidatable.
				if short {
					prop_assert!(lp == 0 || !liquidatable(lp - 1));
				} else {
					prop_assert!(lp == max.into_inner() || !liquidatable(lp + 1));
				}
			},
			None => {
				// No price in range liquidates it: check both ends.
				prop_assert!(!liquidatable(0) && !liquidatable(max.into_inner()));
			},
		}
	}

	#[test]
	fn rounding_never_pays_out_more_than_the_exact_amount(
		size in 1i128..1_000_000 * UNIT as i128,
		short in any::<bool>(),
		p1 in 1u128..1_000_000_000_000_000_000_000_000,
		p2 in 1u128..1_000_000_000_000_000_000_000_000,
		closed_share in 1u128..=1_000,
	) {
		let size = if short { -size } else { size };
		// Opening and closing at one price never makes money.
		let cost = risk::signed_value_ceil(size, UNIT, price(p1), SU).unwrap();
		let value = risk::signed_value_floor(size, UNIT, price(p1), SU).unwrap();
		prop_assert!(value - cost <= 0);
		// Realized PnL of a partial close is at most the exact pro-rata amount.
		let closed = size.unsigned_abs() * closed_share / 1_000;
		prop_assume!(closed > 0);
		let (part, rest) = risk::split_cost(cost, size, closed).unwrap();
		prop_assert_eq!(part + rest, cost);
		let closed_signed = if short { -(closed as i128) } else { closed as i128 };
		let realized = risk::signed_value_floor(closed_signed, UNIT, price(p2), SU).unwrap() - part;
		// Exact: closed × p2 × SU / (UNIT × 1e18) − cost × closed / |size|.
		let exact_value = sp_runtime::helpers_128bit::multiply_by_rational_with_rounding(
			closed, p2 * SU, UNIT * Price::DIV, sp_runtime::Rounding::Down).unwrap() as i128;
		// An upper bound of the exact signed value: −x ≤ −⌊x⌋ for a short, x < ⌊x⌋ + 1 for a long.
		let exact_value = if short { -exact_value } else { exact_value + 1 };
		let exact_part_floor = (cost * closed as i128).div_euclid(size.abs());
		prop_assert!(realized <= exact_value - exact_part_floor, "{realized} > exact");
	}

	#[test]
	fn moves_inside_the_safe_band_never_reach_maintenance(
		case in band_case(),
		move_btc in -999i128..=999,
		move_dot in -999i128..=999,
	) {
		let Some(delta) = case.delta else {
			prop_assert!(case.before.state().is_liquidatable());
			return Ok(());
		};
		let btc = within(case.entry, delta, move_btc);
		prop_assume!(!btc.is_zero());
		let after = case.at(btc, within(DOT_PRICE, delta, move_dot));
		prop_assert!(!after.state().is_liquidatable(), "{after:?} after moves {move_btc}, {move_dot} of δ = {delta:?}");
	}

	/// The risk index keeps only the dangerous end of a band (`index.rs`): a price may go any
	/// distance the other way. Here each price either moves inside δ, or any factor up to
	/// 1,000 in the direction that cannot hurt (BTC up for a long, down for a short; the DOT
	/// collateral up), and the account is never liquidatable.
	#[test]
	fn moves_to_the_safe_side_of_a_band_never_reach_maintenance(
		case in band_case(),
		move_btc in -999i128..=999,
		move_dot in -999i128..=999,
		btc_away in proptest::option::of(1u32..1_000),
		dot_away in proptest::option::of(1u32..1_000),
	) {
		let Some(delta) = case.delta else { return Ok(()) };
		let btc = match btc_away {
			Some(k) if case.size < 0 => case.entry.saturating_mul(FixedU128::from_rational(1, k.into())),
			Some(k) => case.entry.saturating_mul(FixedU128::from_u32(k)),
			None => within(case.entry, delta, move_btc),
		};
		let dot_price = match dot_away {
			Some(k) => DOT_PRICE.saturating_mul(FixedU128::from_u32(k)),
			None => within(DOT_PRICE, delta, move_dot),
		};
		prop_assume!(!btc.is_zero());
		let after = case.at(btc, dot_price);
		prop_assert!(!after.state().is_liquidatable(), "{after:?} after BTC {btc:?}, DOT {dot_price:?}, δ = {delta:?}");
	}
}

prop_compose! {
	/// A [`BandCase`] over the range the safe-band properties explore.
	fn band_case()(
		cash in -100_000i128 * SU as i128..2_000_000 * SU as i128,
		size in 1i128..200 * UNIT as i128,
		short in any::<bool>(),
		entry in 1_000u32..200_000,
		dot in 0u128..1_000_000,
	) -> BandCase {
		BandCase::new(cash, if short { -size } else { size }, Price::from_u32(entry), dot)
	}
}

/// The DOT collateral's price in the safe-band properties.
const DOT_PRICE: Price = Price::from_u32(5);
/// Smallest DOT units per DOT.
const DOT_UNIT: u128 = 10_000_000_000;

/// An account of the safe-band properties: `cash`, a BTC position of `size` entered at `entry`,
/// `dot` DOT of collateral at [`DOT_PRICE`] weighted 80%; its health there and its safe move δ
/// (`None` once below maintenance).
#[derive(Debug)]
struct BandCase {
	cash: i128,
	size: i128,
	cost: i128,
	entry: Price,
	dot: u128,
	tiers: Vec<Tier>,
	before: risk::Health,
	delta: Option<FixedU128>,
}

impl BandCase {
	fn new(cash: i128, size: i128, entry: Price, dot: u128) -> Self {
		let tiers = tiers();
		let cost = risk::signed_value_ceil(size, UNIT, entry, SU).unwrap();
		let mut case =
			Self { cash, size, cost, entry, dot, tiers, before: Default::default(), delta: None };
		case.before = case.at(entry, DOT_PRICE);
		let line = case.line(entry);
		let collateral = case.collateral(DOT_PRICE);
		let collateral_value = collateral.weight.mul_ceil(
			risk::value(collateral.amount, DOT_UNIT, DOT_PRICE, SU, sp_runtime::Rounding::Up)
				.unwrap(),
		);
		let exposure =
			risk::position_exposure(line.notional(SU).unwrap(), &case.tiers) + collateral_value;
		case.delta =
			risk::safe_move(case.before.equity - case.before.maintenance as i128, exposure);
		case
	}

	fn line(&self, btc: Price) -> PositionLine<'_> {
		PositionLine {
			size: self.size,
			cost: self.cost,
			unit: UNIT,
			price: btc,
			tiers: &self.tiers,
		}
	}

	fn collateral(&self, dot: Price) -> CollateralLine {
		CollateralLine {
			amount: self.dot * DOT_UNIT,
			unit: DOT_UNIT,
			price: dot,
			weight: Perbill::from_percent(80),
		}
	}

	/// Its health at these prices.
	fn at(&self, btc: Price, dot: Price) -> risk::Health {
		risk::evaluate(self.cash, &[self.collateral(dot)], &[self.line(btc)], SU).unwrap()
	}
}

/// `price` moved by `per_mille` thousandths of `delta`, up or down.
fn within(price: Price, delta: FixedU128, per_mille: i128) -> Price {
	let step = delta.saturating_mul(FixedU128::from_rational(per_mille.unsigned_abs(), 1_000));
	let factor = if per_mille >= 0 {
		FixedU128::one().saturating_add(step)
	} else {
		FixedU128::one().saturating_sub(step)
	};
	price.saturating_mul(factor)
}
