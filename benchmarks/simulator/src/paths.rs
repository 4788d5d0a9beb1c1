//! Price paths, per block, as multiples of the starting prices: historical crash shapes
//! compressed to blocks, and a synthetic family for sweeps.
//!
//! The historical shapes are piecewise linear between key points (hour of the window, price
//! over the window's opening price) taken from public accounts of each day, listed with each
//! shape; the window is spread over the scenario's blocks, and a small noise (0.1% a block,
//! seeded) is laid over it. They are shapes, not tick data: what matters here is the depth and
//! speed of each leg.

use crate::population::Draw;

/// The assets the oracle prices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Asset {
	Btc = 0,
	Eth = 1,
	Dot = 2,
	Native = 3,
}

/// Every priced asset, in index order.
pub const ASSETS: [Asset; 4] = [Asset::Btc, Asset::Eth, Asset::Dot, Asset::Native];

/// Starting prices (USD) of every scenario, by asset index: the population is drawn at these,
/// and every path multiplies them.
pub const START: [f64; 4] = [65_000.0, 3_000.0, 5.0, 2.0];

/// A path: the price multiple of each asset in each block.
#[derive(Clone, Debug)]
pub struct Path {
	pub name: String,
	pub blocks: Vec<[f64; 4]>,
}

/// Key points of one asset: (hour, multiple of the opening price).
type Keys = &'static [(f64, f64)];

/// A historical window: its length in hours and the key points of BTC, ETH and DOT (the
/// native token follows DOT).
pub struct Shape {
	pub name: &'static str,
	pub hours: f64,
	pub btc: Keys,
	pub eth: Keys,
	pub dot: Keys,
	/// Where the key points come from.
	pub source: &'static str,
}

/// 12–13 March 2020 from 08:00 UTC: BTC about 7,300 USD, a first leg to 5,690 between 10:00
/// and 11:00, about 5,800 at 23:00, a second leg to 3,900 by 02:15, about 4,800 at 08:00;
/// ETH about 200 to under 90 over the same two legs. DOT did not trade yet: it follows ETH.
pub const MARCH_2020: Shape = Shape {
	name: "march-2020",
	hours: 24.0,
	btc: &[(0.0, 1.0), (2.0, 1.0), (3.0, 0.78), (15.0, 0.795), (18.25, 0.534), (24.0, 0.66)],
	eth: &[(0.0, 1.0), (2.0, 1.0), (3.0, 0.75), (15.0, 0.76), (18.25, 0.45), (24.0, 0.58)],
	dot: &[(0.0, 1.0), (2.0, 1.0), (3.0, 0.75), (15.0, 0.76), (18.25, 0.45), (24.0, 0.58)],
	source:
		"BTCMEX, \"Black Thursday: what actually happened to Bitcoin\" (two legs, 7,300 → 5,690 \
	         at 10:00–11:00 UTC and 5,800 → 3,900 at 23:00–02:15 UTC); ETH 200 → 90 as widely \
	         reported for 12–13 March 2020",
};

/// 19 May 2021 from 00:00 UTC: BTC about 43,000, about 40,000 by 11:00, a freefall from
/// 20:30 to about 30,000 by 22:00, about 37,000 at midnight; ETH about 3,400 to about 1,900
/// (−44%) and back to about 2,500; DOT is taken to fall as ETH did, a little less deep.
pub const MAY_2021: Shape = Shape {
	name: "may-2021",
	hours: 24.0,
	btc: &[(0.0, 1.0), (11.0, 0.93), (20.5, 0.9), (22.0, 0.70), (24.0, 0.86)],
	eth: &[(0.0, 1.0), (11.0, 0.88), (20.5, 0.83), (22.0, 0.56), (24.0, 0.74)],
	dot: &[(0.0, 1.0), (11.0, 0.88), (20.5, 0.83), (22.0, 0.58), (24.0, 0.75)],
	source: "public accounts of 19 May 2021 (BTC down 10.7% by 11:07 UTC, freefall from about \
	         20:30 UTC to a low near 30,000, about 31% from the day's high; ETH down about 44–46% \
	         to about 1,900)",
};

/// 10 October 2025 from 20:00 UTC: BTC about 122,000, a cascade from 20:50 to a low of
/// about 104,800 by 21:20, about 113,000 by 22:30; ETH about 4,370 to about 3,450 and back
/// to about 3,800; altcoins −40% to −80% within minutes: DOT to 35% of its price, then back to
/// three quarters.
pub const OCTOBER_2025: Shape = Shape {
	name: "october-2025",
	hours: 4.0,
	btc: &[(0.0, 1.0), (0.83, 0.985), (1.33, 0.86), (2.5, 0.926), (4.0, 0.92)],
	eth: &[(0.0, 1.0), (0.83, 0.98), (1.33, 0.79), (2.5, 0.87), (4.0, 0.86)],
	dot: &[(0.0, 1.0), (0.83, 0.97), (1.25, 0.35), (2.5, 0.75), (4.0, 0.72)],
	source: "public accounts of 10 October 2025 (Amberdata: a cascade from 20:50 UTC, 6.93 \
	         billion USD liquidated in 40 minutes; BTC from about 122,000 to 104,782, ETH to \
	         about 3,436; altcoins −40% to −80%)",
};

/// The historical shapes.
pub const SHAPES: [&Shape; 3] = [&MARCH_2020, &MAY_2021, &OCTOBER_2025];

/// The multiple at `hour` of piecewise linear key points.
fn at(keys: Keys, hour: f64) -> f64 {
	let mut previous = keys.first().copied().unwrap_or((0.0, 1.0));
	for &(h, v) in keys {
		if hour <= h {
			let span = h - previous.0;
			if span <= 0.0 {
				return v;
			}
			return previous.1 + (v - previous.1) * (hour - previous.0) / span;
		}
		previous = (h, v);
	}
	previous.1
}

/// `shape` over `blocks` blocks, with noise from `seed`.
pub fn historical(shape: &Shape, blocks: u32, seed: u64) -> Path {
	let mut draw = Draw::new(seed);
	let mut noise = [1.0f64; 4];
	let blocks = (0..blocks)
		.map(|b| {
			let hour = shape.hours * f64::from(b) / f64::from(blocks.max(2) - 1);
			for n in noise.iter_mut() {
				*n *= (0.001 * draw.normal()).exp();
			}
			let dot = at(shape.dot, hour);
			[
				at(shape.btc, hour) * noise[0],
				at(shape.eth, hour) * noise[1],
				dot * noise[2],
				dot * noise[3],
			]
		})
		.collect();
	Path { name: shape.name.into(), blocks }
}

/// A synthetic path: geometric Brownian motion (`vol` a block) with crashes arriving with
/// probability `jumps` a block, each a fall of about `depth` (±40%), ETH 1.3 and DOT and the
/// native token 1.6 times as deep as BTC.
pub fn jumpy(name: String, blocks: u32, vol: f64, jumps: f64, depth: f64, seed: u64) -> Path {
	let mut draw = Draw::new(seed);
	let mut level = [0.0f64; 4];
	let beta = [1.0, 1.3, 1.6, 1.6];
	let blocks = (0..blocks)
		.map(|_| {
			let common = draw.normal();
			let jump = if draw.chance(jumps) { depth * draw.between(0.6, 1.4) } else { 0.0 };
			for (i, l) in level.iter_mut().enumerate() {
				let own = draw.normal();
				*l += vol * beta[i] * (0.8 * common + 0.6 * own)
					+ (1.0 - beta[i] * jump).max(0.05).ln();
			}
			level.map(f64::exp)
		})
		.collect();
	Path { name, blocks }
}
