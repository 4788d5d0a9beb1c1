//! Pure aggregation maths, no storage: median, deviation filter, circuit-breaker test, EMA index
//! and realized volatility. All fixed point; nothing here can panic.

use alloc::vec::Vec;
use perp_primitives::Price;
use sp_runtime::{
	traits::{Bounded, CheckedAdd, CheckedDiv, CheckedMul, CheckedSub, One, Saturating, Zero},
	FixedI128, FixedPointNumber, FixedU128, Perbill,
};

/// Milliseconds in a Julian year, for annualizing volatility.
pub const YEAR_MS: u128 = 31_557_600_000;

/// The median of `values`, or `None` when there are none.
///
/// With an even count the lower of the two middle values is taken, so that two feeders can
/// never lift the aggregate above what either of them reported.
pub fn median(mut values: Vec<Price>) -> Option<Price> {
	if values.is_empty() {
		return None;
	}
	values.sort_unstable();
	let mid = (values.len() - 1) / 2;
	values.get(mid).copied()
}

/// `|a - b| / b`, the relative distance of `a` from the reference `b`; `None` when `b` is zero.
pub fn relative_distance(a: Price, b: Price) -> Option<FixedU128> {
	let diff = if a >= b { a.checked_sub(&b)? } else { b.checked_sub(&a)? };
	diff.checked_div(&b)
}

/// Whether `a` lies further than `bound` from the reference `b` (a zero reference is always
/// "too far": no price may be measured against it).
pub fn exceeds(a: Price, b: Price, bound: Perbill) -> bool {
	match relative_distance(a, b) {
		Some(distance) => distance > FixedU128::from_perbill(bound),
		None => true,
	}
}

/// The outcome of filtering one asset's fresh values.
#[derive(Debug, PartialEq, Eq)]
pub struct Filtered<K> {
	/// The median of the values kept.
	pub median: Price,
	/// The keys whose values were kept.
	pub kept: Vec<K>,
	/// The keys whose values lay further than the allowed deviation from the first median.
	pub excluded: Vec<K>,
}

/// Takes the median of `values`, drops every value further than `max_deviation` from it, and
/// takes the median of what is left. `None` when fewer than `min_count` values remain at either
/// step: a minority of outliers cannot move the price, and a lost quorum gives no price.
pub fn filter_and_aggregate<K: Clone>(
	values: &[(K, Price)],
	min_count: u32,
	max_deviation: Perbill,
) -> Option<Filtered<K>> {
	let enough = |n: usize| n > 0 && n >= min_count as usize;
	if !enough(values.len()) {
		return None;
	}
	let first = median(values.iter().map(|(_, p)| *p).collect())?;
	let (kept, excluded): (Vec<_>, Vec<_>) =
		values.iter().cloned().partition(|(_, p)| !exceeds(*p, first, max_deviation));
	if !enough(kept.len()) {
		return None;
	}
	let median = median(kept.iter().map(|(_, p)| *p).collect())?;
	Some(Filtered {
		median,
		kept: kept.into_iter().map(|(k, _)| k).collect(),
		excluded: excluded.into_iter().map(|(k, _)| k).collect(),
	})
}

/// One step of an exponential moving average: `previous + alpha * (next - previous)`.
pub fn ema(previous: Price, next: Price, alpha: Perbill) -> Price {
	if next >= previous {
		previous.saturating_add(FixedU128::from_perbill(alpha).saturating_mul(next - previous))
	} else {
		previous.saturating_sub(FixedU128::from_perbill(alpha).saturating_mul(previous - next))
	}
}

/// `ln 2` in fixed point.
const LN_2: FixedI128 = FixedI128::from_inner(693_147_180_559_945_309);

/// The natural logarithm of `x`, or `None` for zero.
///
/// Range reduction by powers of two to `y` in `[1, 2)`, then
/// `ln y = 2 atanh(z) = 2 (z + z^3/3 + z^5/5 + ...)` with `z = (y - 1) / (y + 1) <= 1/3`,
/// which converges to fixed-point precision in under 20 terms.
pub fn ln(x: FixedU128) -> Option<FixedI128> {
	if x.is_zero() {
		return None;
	}
	let two = FixedU128::saturating_from_integer(2u32);
	let mut y = x;
	let mut k: i32 = 0;
	while y >= two {
		y = y.checked_div(&two)?;
		k += 1;
	}
	while y < FixedU128::one() {
		y = y.checked_mul(&two)?;
		k -= 1;
	}
	let z = FixedI128::from_inner(
		i128::try_from((y - FixedU128::one()).checked_div(&(y + FixedU128::one()))?.into_inner())
			.ok()?,
	);
	let z2 = z.checked_mul(&z)?;
	let mut term = z;
	let mut sum = FixedI128::zero();
	for n in 0..30i128 {
		let add = term.checked_div(&FixedI128::saturating_from_integer(2 * n + 1))?;
		if add.is_zero() {
			break;
		}
		sum = sum.checked_add(&add)?;
		term = term.checked_mul(&z2)?;
	}
	let two_i = FixedI128::saturating_from_integer(2);
	LN_2.checked_mul(&FixedI128::saturating_from_integer(k))?
		.checked_add(&two_i.checked_mul(&sum)?)
}

/// One EWMA step of the variance rate (squared log return per millisecond):
/// `keep * previous + (1 - keep) * ln(next / prev)^2 / elapsed_ms`.
/// `None` when a price is zero or no time has elapsed (the estimate is then left unchanged).
pub fn variance_rate_step(
	previous_rate: FixedU128,
	prev: Price,
	next: Price,
	elapsed_ms: u64,
	keep: Perbill,
) -> Option<FixedU128> {
	if elapsed_ms == 0 {
		return None;
	}
	let r = ln(next.checked_div(&prev)?)?;
	let r2 = FixedU128::from_inner(u128::try_from(r.checked_mul(&r)?.into_inner()).ok()?);
	let sample = r2.checked_div(&FixedU128::saturating_from_integer(elapsed_ms))?;
	let keep = FixedU128::from_perbill(keep);
	let fresh = FixedU128::one().checked_sub(&keep)?;
	Some(keep.saturating_mul(previous_rate).saturating_add(fresh.saturating_mul(sample)))
}

/// Annualized volatility from a variance rate per millisecond: `sqrt(rate * YEAR_MS)`.
pub fn annualized_volatility(rate_per_ms: FixedU128) -> FixedU128 {
	rate_per_ms
		.saturating_mul(FixedU128::saturating_from_integer(YEAR_MS))
		.checked_sqrt()
		.unwrap_or_else(Bounded::max_value)
}

#[cfg(test)]
mod tests {
	use super::*;

	fn p(n: u32) -> Price {
		Price::from_u32(n)
	}

	fn close(a: FixedI128, b: FixedI128, tolerance: i128) -> bool {
		(a.into_inner() - b.into_inner()).abs() <= tolerance
	}

	#[test]
	fn median_of_nothing_is_none() {
		assert_eq!(median(Vec::new()), None);
	}

	#[test]
	fn median_of_odd_count_is_the_middle_and_of_even_count_the_lower_middle() {
		assert_eq!(median(vec![p(3), p(1), p(2)]), Some(p(2)));
		assert_eq!(median(vec![p(9)]), Some(p(9)));
		assert_eq!(median(vec![p(4), p(1), p(3), p(2)]), Some(p(2)));
	}

	#[test]
	fn a_minority_of_liars_cannot_move_the_median_outside_the_honest_range() {
		for n_honest in 2u32..=9 {
			let honest: Vec<Price> = (0..n_honest).map(|i| p(1_000 + i)).collect();
			for n_liars in 0..n_honest {
				for lie in [1u32, 999, 1_000_000, u32::MAX] {
					let mut all = honest.clone();
					all.extend((0..n_liars).map(|_| p(lie)));
					let m = median(all).unwrap();
					assert!(
						m >= p(1_000) && m <= p(1_000 + n_honest - 1),
						"{n_liars} liars at {lie} among {n_honest} moved the median to {m:?}"
					);
				}
			}
		}
	}

	#[test]
	fn outliers_are_excluded_and_reported() {
		let values = vec![(1u8, p(100)), (2, p(101)), (3, p(102)), (4, p(150))];
		let f = filter_and_aggregate(&values, 3, Perbill::from_percent(5)).unwrap();
		assert_eq!(f.median, p(101));
		assert_eq!(f.kept, vec![1, 2, 3]);
		assert_eq!(f.excluded, vec![4]);
	}

	#[test]
	fn no_aggregate_without_quorum_before_or_after_filtering() {
		let values = vec![(1u8, p(100)), (2, p(101))];
		assert!(filter_and_aggregate(&values, 3, Perbill::from_percent(5)).is_none());
		assert!(filter_and_aggregate::<u8>(&[], 0, Perbill::from_percent(5)).is_none());
		// Three values, but one is an outlier: two remain, below a quorum of three.
		let values = vec![(1u8, p(100)), (2, p(101)), (3, p(300))];
		assert!(filter_and_aggregate(&values, 3, Perbill::from_percent(5)).is_none());
	}

	#[test]
	fn distance_and_bounds() {
		assert_eq!(relative_distance(p(110), p(100)), Some(FixedU128::from_rational(1, 10)));
		assert_eq!(relative_distance(p(90), p(100)), Some(FixedU128::from_rational(1, 10)));
		assert_eq!(relative_distance(p(1), Price::zero()), None);
		assert!(!exceeds(p(110), p(100), Perbill::from_percent(10)));
		assert!(exceeds(p(111), p(100), Perbill::from_percent(10)));
		assert!(exceeds(p(1), Price::zero(), Perbill::from_percent(100)));
	}

	#[test]
	fn ema_moves_part_of_the_way_in_both_directions() {
		let half = Perbill::from_percent(50);
		assert_eq!(ema(p(100), p(200), half), p(150));
		assert_eq!(ema(p(200), p(100), half), p(150));
		assert_eq!(ema(p(100), p(200), Perbill::one()), p(200));
		assert_eq!(ema(p(100), p(200), Perbill::zero()), p(100));
	}

	#[test]
	fn ln_matches_known_values() {
		assert_eq!(ln(FixedU128::zero()), None);
		assert!(close(ln(FixedU128::one()).unwrap(), FixedI128::zero(), 10));
		assert!(close(ln(FixedU128::from_u32(2)).unwrap(), LN_2, 10));
		// ln(10) = 2.302585092994045684
		assert!(close(
			ln(FixedU128::from_u32(10)).unwrap(),
			FixedI128::from_inner(2_302_585_092_994_045_684),
			1_000
		));
		// ln(0.5) = -ln 2
		assert!(close(ln(FixedU128::from_rational(1, 2)).unwrap(), -LN_2, 10));
		// ln(1.01) = 0.009950330853168082
		assert!(close(
			ln(FixedU128::from_rational(101, 100)).unwrap(),
			FixedI128::from_inner(9_950_330_853_168_082),
			1_000
		));
	}

	#[test]
	fn ln_is_monotonic_and_additive_over_a_wide_range() {
		let mut previous = None;
		for e in 0..40u32 {
			let x = FixedU128::from_rational(3u128.pow(e % 20) * 7, 5u128.pow(e / 2));
			let lx = ln(x).unwrap();
			let lx2 = ln(x.saturating_mul(FixedU128::from_u32(2))).unwrap();
			assert!(close(lx2 - lx, LN_2, 1_000), "ln(2x) - ln(x) != ln 2 at {x:?}");
			if let Some((px, pl)) = previous {
				assert_eq!(x > px, lx > pl, "ln is not monotonic between {px:?} and {x:?}");
			}
			previous = Some((x, lx));
		}
	}

	#[test]
	fn volatility_of_a_steady_one_percent_move_per_block() {
		// A 1% move every 6 s block, every block: sigma = ln(1.01) * sqrt(blocks per year).
		let mut rate = FixedU128::zero();
		let mut price = p(100);
		for _ in 0..2_000 {
			let next = price.saturating_mul(FixedU128::from_rational(101, 100));
			rate = variance_rate_step(rate, price, next, 6_000, Perbill::from_percent(94)).unwrap();
			price = next;
		}
		let sigma = annualized_volatility(rate);
		// 0.00995033 * sqrt(31_557_600_000 / 6_000) = 0.00995033 * 2293.3 = 22.82
		let expected = FixedU128::from_rational(2282, 100);
		assert!(relative_distance(sigma, expected).unwrap() < FixedU128::from_rational(1, 100));
	}

	#[test]
	fn volatility_is_zero_for_a_flat_price_and_unchanged_without_elapsed_time() {
		let rate =
			variance_rate_step(FixedU128::zero(), p(100), p(100), 6_000, Perbill::from_percent(90))
				.unwrap();
		assert_eq!(annualized_volatility(rate), FixedU128::zero());
		assert_eq!(variance_rate_step(rate, p(100), p(101), 0, Perbill::from_percent(90)), None);
		assert_eq!(
			variance_rate_step(rate, Price::zero(), p(101), 6_000, Perbill::from_percent(90)),
			None
		);
	}
}
