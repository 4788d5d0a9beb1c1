//! The population: margin accounts drawn from a seeded distribution shaped like a perp venue's
//! book.
//!
//! - equity log-normal around 3,000 USD (σ = 1.1 in log space, from 200 USD to 300,000 USD),
//!   and 0.3% whales with 150,000 to 1,500,000 USD, whose notional reaches past the first tier;
//! - leverage (notional over weighted equity) uniform in 2–10x for 85% of the accounts, the
//!   rest in 10–19x (the markets allow 20x); whales 2–6x; no notional past what the initial
//!   margin tiers allow the equity;
//! - 60% trade BTC only, 25% ETH only, 15% both (60/40), of which a third hedge (one side
//!   each);
//! - a long/short skew (`long_share`, 70% long by default: crashes hurt when the book is long);
//! - 75% hold only USD, 15% part of their equity in DOT (80% weight), 10% in the native token
//!   (50% weight).

use crate::paths::{Asset, START};
use perpchain_runtime::{AccountId, Balance};
use rand_chacha::{
	rand_core::{RngCore, SeedableRng},
	ChaCha8Rng,
};

/// What the population is drawn from.
#[derive(Clone, Debug)]
pub struct Spec {
	/// How many accounts.
	pub accounts: u32,
	/// The seed of the draw.
	pub seed: u64,
	/// The share of accounts that go long.
	pub long_share: f64,
}

/// One account as drawn: what it deposits and the trades it opens.
#[derive(Clone, Debug)]
pub struct Trader {
	pub who: AccountId,
	/// USD it deposits, in whole USD.
	pub usd: f64,
	/// Collateral it deposits besides USD: the asset and whole units.
	pub collateral: Option<(Asset, f64)>,
	/// Its trades: the market (0 BTC-PERP, 1 ETH-PERP) and the notional in USD, signed (long
	/// positive).
	pub trades: Vec<(u32, f64)>,
}

/// A seeded source of the draws.
pub struct Draw(ChaCha8Rng);

impl Draw {
	pub fn new(seed: u64) -> Draw {
		Draw(ChaCha8Rng::seed_from_u64(seed))
	}

	/// Uniform in [0, 1).
	pub fn unit(&mut self) -> f64 {
		(self.0.next_u64() >> 11) as f64 / (1u64 << 53) as f64
	}

	/// Uniform in [lo, hi).
	pub fn between(&mut self, lo: f64, hi: f64) -> f64 {
		lo + (hi - lo) * self.unit()
	}

	/// Standard normal (Box–Muller).
	pub fn normal(&mut self) -> f64 {
		let u = self.unit().max(f64::MIN_POSITIVE);
		let v = self.unit();
		(-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
	}

	/// True with probability `p`.
	pub fn chance(&mut self, p: f64) -> bool {
		self.unit() < p
	}
}

/// The account of trader `i`: a hash, so that it collides with no well-known account.
pub fn account(i: u32) -> AccountId {
	let mut seed = b"perpchain-sim".to_vec();
	seed.extend_from_slice(&i.to_le_bytes());
	AccountId::from(sp_io::hashing::blake2_256(&seed))
}

/// The accounts `spec` describes, at the paths' starting prices.
pub fn draw(spec: &Spec) -> Vec<Trader> {
	let mut draw = Draw::new(spec.seed);
	(0..spec.accounts)
		.map(|i| {
			let whale = draw.chance(0.003);
			let equity = if whale {
				draw.between(150_000.0, 1_500_000.0)
			} else {
				(3_000.0 * (1.1 * draw.normal()).exp()).clamp(200.0, 300_000.0)
			};
			// Part of the equity in other collateral, by what it counts for.
			let (usd, collateral, weighted) = match draw.unit() {
				x if x < 0.75 => (equity, None, equity),
				x => {
					let (asset, weight) =
						if x < 0.90 { (Asset::Dot, 0.8) } else { (Asset::Native, 0.5) };
					let share = draw.between(0.3, 0.7);
					let value = equity * share;
					let units = value / START[asset as usize];
					(equity - value, Some((asset, units)), equity - value + value * weight)
				},
			};
			// Whales trade at lower leverage.
			let leverage = if whale {
				draw.between(2.0, 6.0)
			} else if draw.chance(0.85) {
				draw.between(2.0, 10.0)
			} else {
				draw.between(10.0, 19.0)
			};
			let notional = (weighted * leverage).min(max_notional(weighted));
			let long = draw.chance(spec.long_share);
			let sign = if long { 1.0 } else { -1.0 };
			let trades = match draw.unit() {
				x if x < 0.60 => vec![(0, sign * notional)],
				x if x < 0.85 => vec![(1, sign * notional)],
				_ => {
					let hedge = if draw.chance(1.0 / 3.0) { -1.0 } else { 1.0 };
					vec![(0, sign * notional * 0.6), (1, hedge * sign * notional * 0.4)]
				},
			};
			Trader { who: account(i), usd, collateral, trades }
		})
		.collect()
}

/// The largest notional whose initial margin, at genesis's tiers (5% up to 1 million USD, 10%
/// up to 10 million, 20% beyond), 95% of `equity` covers (the rest leaves room for the fee).
pub fn max_notional(equity: f64) -> f64 {
	let budget = 0.95 * equity;
	let tiers = [(1e6, 0.05), (10e6, 0.10), (f64::MAX, 0.20)];
	let (mut notional, mut spent, mut from) = (0.0, 0.0, 0.0);
	for (up_to, rate) in tiers {
		let room = (up_to - from) * rate;
		if spent + room >= budget {
			return notional + (budget - spent) / rate;
		}
		spent += room;
		notional = up_to;
		from = up_to;
	}
	notional
}

/// Whole units of an amount in the smallest units `unit`.
pub fn units(amount: f64, unit: Balance) -> Balance {
	(amount.max(0.0) * unit as f64) as Balance
}
