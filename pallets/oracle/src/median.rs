//! Median of a set of prices: pure logic, no storage.

use alloc::vec::Vec;
use perp_primitives::Price;

/// The median of `values`, or `None` when there are none.
///
/// With an even count the lower of the two middle values is taken: a price that only rounds
/// down never lets a feeder pair push the aggregate above what either of them reported.
pub fn median(mut values: Vec<Price>) -> Option<Price> {
	if values.is_empty() {
		return None;
	}
	values.sort_unstable();
	let mid = (values.len() - 1) / 2;
	values.get(mid).copied()
}

#[cfg(test)]
mod tests {
	use super::*;

	fn p(n: u32) -> Price {
		Price::from_u32(n)
	}

	#[test]
	fn median_of_nothing_is_none() {
		assert_eq!(median(Vec::new()), None);
	}

	#[test]
	fn median_of_odd_count_is_the_middle() {
		assert_eq!(median(vec![p(3), p(1), p(2)]), Some(p(2)));
		assert_eq!(median(vec![p(9)]), Some(p(9)));
	}

	#[test]
	fn median_of_even_count_is_the_lower_middle() {
		assert_eq!(median(vec![p(4), p(1), p(3), p(2)]), Some(p(2)));
	}

	#[test]
	fn one_liar_cannot_move_a_three_feeder_median_outside_the_honest_range() {
		for lie in [0u32, 1, 1_000, u32::MAX] {
			let m = median(vec![p(100), p(101), p(lie)]).unwrap();
			assert!(m >= p(100) && m <= p(101), "lie {lie} moved the median to {m:?}");
		}
	}
}
