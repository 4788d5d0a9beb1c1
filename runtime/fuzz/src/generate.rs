//! The seeded generator of actions: traders who deposit, trade with leverage, withdraw and
//! close; feeders who follow a random walk of the prices with rare crashes, fall silent or lie;
//! keepers who liquidate, take and restart auctions; governance that changes every parameter,
//! within its bounds and outside them; donations to the protocol's accounts; batches; forged
//! unsigned liquidations; and raw call bytes decoded as whatever call they happen to be.
//!
//! It reads the state to aim (a trader's cash, the open auctions, the candidates) and emits
//! concrete actions, so that a recorded sequence replays exactly without it.

use crate::{action::Action, actors, chain::Chain};
use codec::Decode;
use frame_support::BoundedVec;
use pallet_margin::{CollateralParams, MarketParams, Tier};
use perp_primitives::{AssetId, Price};
use perpchain_runtime::{
	asset_ids, configs::MaxTiers, genesis_config_presets as presets, AccountId, Runtime,
	RuntimeCall, USD_UNIT,
};
use rand_chacha::{
	rand_core::{RngCore, SeedableRng},
	ChaCha8Rng,
};
use sp_runtime::{
	traits::{Saturating, Zero},
	Perbill,
};
use std::collections::VecDeque;

/// The assets the oracle prices at genesis, with a starting price in USD.
const PRICED: [(AssetId, f64); 4] = [
	(asset_ids::NATIVE, 2.0),
	(asset_ids::BTC, 65_000.0),
	(asset_ids::ETH, 3_000.0),
	(asset_ids::DOT, 5.0),
];

/// The seeded generator.
pub struct Generator {
	rng: ChaCha8Rng,
	/// The true price of each of `PRICED`, which honest feeders report with a little noise.
	prices: [f64; 4],
	/// A feeder that lies by ±20% this block.
	liar: Option<u8>,
	/// Blocks left of an outage in which only Alice feeds (below quorum: prices go stale).
	outage: u32,
	/// Actions already decided (the feeds at the start of a block).
	queue: VecDeque<Action>,
	/// Whether the block has just started and its feeds are still to be decided.
	new_block: bool,
}

impl Generator {
	/// A generator from `seed`; the first actions of every block are its feeds.
	pub fn new(seed: u64) -> Generator {
		Generator {
			rng: ChaCha8Rng::seed_from_u64(seed),
			prices: PRICED.map(|(_, p)| p),
			liar: None,
			outage: 0,
			queue: VecDeque::new(),
			new_block: true,
		}
	}

	/// The next action, given the chain's state now.
	pub fn next(&mut self, chain: &mut Chain) -> Action {
		chain.execute(|| {
			if std::mem::take(&mut self.new_block) {
				self.queue_feeds();
			}
			if let Some(action) = self.queue.pop_front() {
				return action;
			}
			if self.below(1_000) < 60 {
				return self.end_block();
			}
			self.call()
		})
	}

	fn below(&mut self, n: u64) -> u64 {
		self.rng.next_u64() % n.max(1)
	}

	fn chance(&mut self, per_mille: u64) -> bool {
		self.below(1_000) < per_mille
	}

	fn unit(&mut self) -> f64 {
		(self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
	}

	fn normal(&mut self) -> f64 {
		let (u, v) = (self.unit().max(1e-12), self.unit());
		(-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
	}

	fn pick<T: Clone>(&mut self, items: &[T]) -> T {
		items[self.below(items.len() as u64) as usize].clone()
	}

	fn u128(&mut self) -> u128 {
		(u128::from(self.rng.next_u64()) << 64) | u128::from(self.rng.next_u64())
	}

	/// An amount near `typical`, or (two times in five) one of the values that break code.
	fn amount(&mut self, typical: u128) -> u128 {
		match self.below(20) {
			0 => 0,
			1 => 1,
			2 => u128::MAX,
			3 => i128::MAX as u128,
			4 => 10u128.pow(self.below(39) as u32),
			5 => self.u128(),
			6 => typical.saturating_add(1),
			7 => typical.saturating_sub(1),
			8 => typical.saturating_mul(2),
			9..=11 => typical / (1 + u128::from(self.below(10))),
			_ => typical,
		}
	}

	/// A signed quantity near `typical`, or one of the values that break code.
	fn quantity(&mut self, typical: i128) -> i128 {
		match self.below(20) {
			0 => 0,
			1 => self.pick(&[1, -1]),
			2 => i128::MIN,
			3 => i128::MAX,
			4 => typical.saturating_neg(),
			5 => self.u128() as i128,
			6 => 10i128.pow(self.below(38) as u32) * self.pick(&[1, -1]),
			_ => typical,
		}
	}

	fn trader(&mut self) -> u8 {
		// Mostly the non-feeders; the feeders trade too.
		if self.chance(800) {
			3 + self.below(actors::SIGNERS as u64 - 3) as u8
		} else {
			self.below(3) as u8
		}
	}

	/// Any account an action may name: a signer or one of the protocol's accounts.
	fn anyone(&mut self) -> AccountId {
		let all = actors::all_accounts();
		self.pick(&all)
	}

	fn price_of(&self, asset: AssetId) -> f64 {
		PRICED
			.iter()
			.zip(self.prices)
			.find(|((a, _), _)| *a == asset)
			.map_or(1.0, |(_, p)| p)
	}

	/// Ends the block, moves the prices and decides the next block's feeds.
	fn end_block(&mut self) -> Action {
		let advance_ms = match self.below(100) {
			0..=74 => 6_000,
			75..=89 => 6_000 * (2 + self.below(4)),
			90..=97 => 30_000 + self.below(90_001),
			_ => self.pick(&[60_000, 66_000, 120_000]),
		};
		// Validators offline now and then: no worker for the block.
		let worker = self.chance(900);
		// Now and then a congested block, in which the liquidations compete with the feeds
		// for what is left.
		let congestion = if self.chance(30) { self.pick(&[300, 900, 990, 1_000]) } else { 0 };
		self.walk();
		self.new_block = true;
		Action::NextBlock { advance_ms, worker, congestion }
	}

	/// One block of the price model: a random walk, a rare crash or rally, now and then a
	/// feeder that lies or an outage.
	fn walk(&mut self) {
		for (i, (_, start)) in PRICED.iter().enumerate() {
			let shock = 0.004 * self.normal();
			// Pulled back towards where it started, so that the book stays tradable.
			let pull = (start / self.prices[i]).ln() * 0.002;
			self.prices[i] *= (shock + pull).exp();
		}
		if self.chance(40) {
			// A drop of 2% to 6%: enough to cross the maintenance margin of the most levered.
			let fall = 0.02 + 0.04 * self.unit();
			for price in self.prices.iter_mut() {
				*price *= 1.0 - fall;
			}
		} else if self.chance(15) {
			// A crash, −6% to −30%, of the crypto markets (DOT and the native token harder).
			let fall = 0.06 + 0.24 * self.unit();
			for (i, (asset, _)) in PRICED.iter().enumerate() {
				let fall = if matches!(*asset, asset_ids::BTC | asset_ids::ETH) {
					fall
				} else {
					(fall * 1.5).min(0.6)
				};
				self.prices[i] *= 1.0 - fall;
			}
		} else if self.chance(55) {
			// Rallies as often as drops, so that the walk has no downward drift.
			let rise = 0.02 + 0.06 * self.unit();
			for price in self.prices.iter_mut() {
				*price *= 1.0 + rise;
			}
		}
		self.liar = if self.chance(50) { Some(self.pick(&actors::FEEDERS)) } else { None };
		if self.outage > 0 {
			self.outage -= 1;
		} else if self.chance(8) {
			self.outage = 5 + self.below(26) as u32;
		}
	}

	/// The feeds at the start of the block: each feeder that is not silent, most blocks.
	fn queue_feeds(&mut self) {
		for feeder in Self::feeders() {
			if (self.outage > 0 && feeder != actors::SUDO) || self.chance(120) {
				continue;
			}
			let call = self.feed_call(feeder);
			self.queue.push_back(Action::Signed { signer: feeder, call });
		}
	}

	/// The signers that feed the oracle now.
	fn feeders() -> Vec<u8> {
		let feeders = pallet_perp_oracle::Feeders::<Runtime>::get();
		(0..actors::SIGNERS as u8)
			.filter(|i| feeders.contains(&actors::account(*i)))
			.collect()
	}

	/// A feed of most listed assets at `feeder`'s view of the prices.
	fn feed_call(&mut self, feeder: u8) -> RuntimeCall {
		let mut values = Vec::new();
		for (i, (asset, _)) in PRICED.iter().enumerate() {
			if !pallet_perp_oracle::Assets::<Runtime>::contains_key(asset) || self.chance(100) {
				continue;
			}
			let mut price = self.prices[i] * (1.0 + 0.001 * self.normal());
			if self.liar == Some(feeder) {
				price *= if self.chance(500) { 1.2 } else { 0.8 };
			}
			let price = match self.below(200) {
				0 => Price::zero(),
				1 => Price::from_inner(1),
				2 => Price::from_u32(1_000_000_001),
				_ => Price::from_inner((price * 1e18) as u128),
			};
			values.push((*asset, price));
		}
		if self.chance(20) {
			// An unknown asset, or one asset twice.
			values.push((self.pick(&[asset_ids::USD, 9, asset_ids::BTC]), Price::from_u32(1)));
		}
		RuntimeCall::Oracle(pallet_perp_oracle::Call::feed {
			values: BoundedVec::truncate_from(values),
		})
	}

	/// One call, on the current state.
	fn call(&mut self) -> Action {
		match self.below(1_000) {
			0..=209 => self.signed_by_trader(Self::trade),
			210..=279 => self.signed_by_trader(Self::deposit),
			280..=359 => self.signed_by_trader(Self::withdraw),
			360..=399 => self.signed_by_trader(Self::close),
			400..=459 => self.signed_by_trader(Self::keeper_liquidation),
			460..=499 => self.signed_by_trader(Self::take),
			500..=524 => self.signed_by_trader(Self::restart),
			525..=539 => self.signed_by_trader(|g, _| {
				let amount = g.amount(100 * USD_UNIT);
				RuntimeCall::Liquidation(pallet_liquidation::Call::fund_insurance { amount })
			}),
			540..=549 => self.signed_by_trader(|g, _| {
				let amount = g.amount(1_000 * USD_UNIT);
				RuntimeCall::Margin(pallet_margin::Call::fund_vault { amount })
			}),
			550..=569 => self.signed_by_trader(|g, _| {
				let who = g.anyone();
				RuntimeCall::Margin(pallet_margin::Call::refresh { who })
			}),
			570..=609 => self.signed_by_trader(Self::transfer),
			610..=619 => self.signed_by_trader(Self::create_asset),
			620..=649 => self.signed_by_trader(Self::batch),
			650..=709 => {
				let call = self.governance();
				let call = RuntimeCall::Sudo(pallet_sudo::Call::sudo { call: Box::new(call) });
				Action::Signed { signer: actors::SUDO, call }
			},
			710..=724 => {
				// A feed from someone who is not a feeder.
				let signer = 3 + self.below(actors::SIGNERS as u64 - 3) as u8;
				let call = self.feed_call(signer);
				Action::Signed { signer, call }
			},
			725..=744 => {
				// A feeder's second feed in the block, as likely as not a lie.
				let feeders = Self::feeders();
				let signer = if feeders.is_empty() { 0 } else { self.pick(&feeders) };
				if self.chance(500) {
					self.liar = Some(signer);
				}
				let call = self.feed_call(signer);
				Action::Signed { signer, call }
			},
			745..=794 => {
				// Raw bytes, from anyone but the sudo key.
				let signer = 1 + self.below(actors::SIGNERS as u64 - 1) as u8;
				Action::Signed { signer, call: self.raw_call() }
			},
			795..=824 => Action::Bare { call: self.forged_unsigned() },
			_ => self.signed_by_trader(Self::trade),
		}
	}

	fn signed_by_trader(
		&mut self,
		make: impl FnOnce(&mut Self, &AccountId) -> RuntimeCall,
	) -> Action {
		let signer = self.trader();
		let who = actors::account(signer);
		Action::Signed { signer, call: make(self, &who) }
	}

	fn market(&mut self) -> u32 {
		match self.below(20) {
			0 => self.below(8) as u32,
			1 => u32::MAX,
			_ => self.below(2) as u32,
		}
	}

	/// A trade sized to a leverage, long more often than short, or a reduction or a flip of
	/// the position held.
	fn trade(&mut self, who: &AccountId) -> RuntimeCall {
		let market = self.market();
		let params = pallet_margin::Markets::<Runtime>::get(market);
		let (unit, asset) = params
			.as_ref()
			.map_or((presets::BTC_UNIT, asset_ids::BTC), |m| (m.unit, m.asset));
		let held = pallet_margin::Pallet::<Runtime>::position(who, market).map_or(0, |p| p.size);
		let typical = if held != 0 && self.chance(350) {
			match self.below(3) {
				0 => held.saturating_neg() / 2,
				1 => held.saturating_neg(),
				_ => held.saturating_mul(-2),
			}
		} else {
			let cash = pallet_margin::Accounts::<Runtime>::get(who).map_or(0, |a| a.cash).max(0);
			// Sized on at most 50,000 USD of the account's cash, however much it holds, so
			// that positions stay within the open-interest caps and leverage varies.
			let equity = (cash as f64 / USD_UNIT as f64).clamp(100.0, 50_000.0);
			let leverage = self.pick(&[
				1.0, 3.0, 5.0, 8.0, 10.0, 12.0, 15.0, 15.0, 18.0, 18.0, 19.0, 19.0, 19.5, 20.0,
				25.0,
			]);
			let size = equity * leverage / self.price_of(asset) * unit as f64;
			let side = if self.chance(650) { 1.0 } else { -1.0 };
			(size * side) as i128
		};
		let delta = self.quantity(typical);
		RuntimeCall::Margin(pallet_margin::Call::trade { market, delta })
	}

	fn collateral_asset(&mut self) -> AssetId {
		match self.below(20) {
			0..=11 => asset_ids::USD,
			12..=16 => asset_ids::DOT,
			17..=18 => asset_ids::NATIVE,
			_ => self.pick(&[asset_ids::BTC, 5, 6, u32::MAX]),
		}
	}

	fn deposit(&mut self, who: &AccountId) -> RuntimeCall {
		use frame_support::traits::fungibles::Inspect;
		let asset = self.collateral_asset();
		// Retail sizes mostly, so that leverage and crashes bring accounts to liquidation;
		// now and then a share of everything the account holds.
		let typical = match asset {
			asset_ids::USD => USD_UNIT * self.pick(&[200, 1_000, 2_000, 5_000, 20_000, 100_000]),
			asset_ids::DOT => presets::DOT_UNIT * self.pick(&[10, 100, 1_000]),
			asset_ids::NATIVE => perpchain_runtime::UNIT * self.pick(&[100, 1_000, 10_000]),
			_ => 1,
		};
		let free = perpchain_runtime::configs::NativeAndAssets::balance(asset, who);
		let typical = if self.chance(100) { free / 2 } else { typical };
		let amount = self.amount(typical);
		RuntimeCall::Margin(pallet_margin::Call::deposit { asset, amount })
	}

	fn withdraw(&mut self, who: &AccountId) -> RuntimeCall {
		let asset = self.collateral_asset();
		let held = if asset == asset_ids::USD {
			pallet_margin::Accounts::<Runtime>::get(who).map_or(0, |a| a.cash.max(0) as u128)
		} else {
			pallet_margin::Accounts::<Runtime>::get(who).map_or(0, |a| a.holding(asset))
		};
		let share = 1 + u128::from(self.below(4));
		let amount = self.amount(held / share);
		RuntimeCall::Margin(pallet_margin::Call::withdraw { asset, amount })
	}

	fn close(&mut self, who: &AccountId) -> RuntimeCall {
		let held: Vec<u32> = pallet_margin::Accounts::<Runtime>::get(who)
			.map(|a| a.positions.iter().map(|p| p.market).collect())
			.unwrap_or_default();
		let market =
			if held.is_empty() || self.chance(100) { self.market() } else { self.pick(&held) };
		RuntimeCall::Margin(pallet_margin::Call::close { market })
	}

	fn keeper_liquidation(&mut self, _: &AccountId) -> RuntimeCall {
		let candidates = pallet_liquidation::Pallet::<Runtime>::candidates(16);
		let who = if !candidates.is_empty() && self.chance(700) {
			self.pick(&candidates)
		} else {
			self.anyone()
		};
		RuntimeCall::Liquidation(pallet_liquidation::Call::liquidate_account { who })
	}

	fn take(&mut self, _: &AccountId) -> RuntimeCall {
		let views = pallet_liquidation::Pallet::<Runtime>::auction_views();
		let (id, lot, price) = if views.is_empty() || self.chance(50) {
			(self.below(4) as u32, self.amount(presets::DOT_UNIT), Price::from_u32(10))
		} else {
			let view = self.pick(&views);
			(view.id, view.auction.lot, view.price)
		};
		let share = 1 + u128::from(self.below(3));
		let max_amount = self.amount(lot / share);
		let max_price = match self.below(10) {
			0 => Price::zero(),
			1 => Price::from_inner(u128::MAX),
			2 => price.saturating_mul(Price::from_rational(9, 10)),
			_ => price.saturating_mul(Price::from_rational(21, 20)),
		};
		RuntimeCall::Liquidation(pallet_liquidation::Call::take { id, max_amount, max_price })
	}

	fn restart(&mut self, _: &AccountId) -> RuntimeCall {
		let views = pallet_liquidation::Pallet::<Runtime>::auction_views();
		let restartable: Vec<u32> =
			views.iter().filter(|v| v.needs_restart).map(|v| v.id).collect();
		let id = if !restartable.is_empty() && self.chance(800) {
			self.pick(&restartable)
		} else if !views.is_empty() {
			views[self.below(views.len() as u64) as usize].id
		} else {
			self.below(4) as u32
		};
		RuntimeCall::Liquidation(pallet_liquidation::Call::restart { id })
	}

	/// Native or USD/DOT transfers, the protocol's accounts included (donations).
	fn transfer(&mut self, who: &AccountId) -> RuntimeCall {
		use frame_support::traits::fungibles::Inspect;
		let dest = self.anyone();
		match self.below(4) {
			0 => {
				let value = self.amount(perpchain_runtime::UNIT * 10);
				RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
					dest: dest.into(),
					value,
				})
			},
			1 => {
				let value = self.amount(perpchain_runtime::UNIT);
				RuntimeCall::Balances(pallet_balances::Call::transfer_allow_death {
					dest: dest.into(),
					value,
				})
			},
			_ => {
				let id = self.pick(&[asset_ids::USD, asset_ids::DOT, 5]);
				let free = perpchain_runtime::configs::NativeAndAssets::balance(id, who);
				let amount = self.amount(free / 100);
				RuntimeCall::Assets(pallet_assets::Call::transfer {
					id: id.into(),
					target: dest.into(),
					amount,
				})
			},
		}
	}

	/// Anyone tries to create a `pallet-assets` asset, at an id collateral may one day use
	/// (reserved to governance: refused) or in the public range, and mints it.
	fn create_asset(&mut self, who: &AccountId) -> RuntimeCall {
		let public = perpchain_runtime::configs::FIRST_PUBLIC_ASSET_ID;
		let id = self.pick(&[5, 6, 7, public, public + 1]);
		if pallet_assets::Asset::<Runtime>::contains_key(id) {
			let amount = self.amount(10u128.pow(12));
			RuntimeCall::Assets(pallet_assets::Call::mint {
				id: id.into(),
				beneficiary: who.clone().into(),
				amount,
			})
		} else {
			RuntimeCall::Assets(pallet_assets::Call::create {
				id: id.into(),
				admin: who.clone().into(),
				min_balance: 1,
			})
		}
	}

	/// A batch of a trader's calls.
	fn batch(&mut self, who: &AccountId) -> RuntimeCall {
		let calls = (0..2 + self.below(3))
			.map(|_| match self.below(4) {
				0 => self.deposit(who),
				1 => self.trade(who),
				2 => self.withdraw(who),
				_ => self.close(who),
			})
			.collect();
		RuntimeCall::Utility(match self.below(3) {
			0 => pallet_utility::Call::batch { calls },
			1 => pallet_utility::Call::batch_all { calls },
			_ => pallet_utility::Call::force_batch { calls },
		})
	}

	fn perbill(&mut self) -> Perbill {
		match self.below(10) {
			0 => Perbill::zero(),
			1 => Perbill::one(),
			_ => Perbill::from_parts(self.below(1_000_000_001) as u32),
		}
	}

	/// A share near `typical`: scaled by 0.5x to 3x, or anything.
	fn near(&mut self, typical: Perbill) -> Perbill {
		if self.chance(200) {
			return self.perbill();
		}
		let scale = 0.5 + 2.5 * self.unit();
		Perbill::from_parts(
			((typical.deconstruct() as f64 * scale) as u64).min(1_000_000_000) as u32
		)
	}

	/// Market parameters near genesis's, scaled, or broken.
	fn market_params(&mut self) -> MarketParams<MaxTiers> {
		let mut params = presets::markets()[self.below(2) as usize].clone();
		let tiers: Vec<Tier> = params
			.tiers
			.iter()
			.map(|tier| Tier {
				up_to: tier.up_to,
				initial: self.near(tier.initial),
				maintenance: self.near(tier.maintenance),
			})
			.collect();
		// Keep the scaled tiers ordered most of the time, so that most changes are accepted.
		let mut tiers = tiers;
		if self.chance(800) {
			let factor = 0.6 + 2.0 * self.unit();
			for (tier, base) in tiers.iter_mut().zip(params.tiers.iter()) {
				let scale = |p: Perbill| {
					Perbill::from_parts(
						((p.deconstruct() as f64 * factor) as u64).min(999_999_999) as u32
					)
				};
				tier.initial = scale(base.initial);
				tier.maintenance = scale(base.maintenance);
			}
		}
		params.tiers = BoundedVec::truncate_from(tiers);
		match self.below(12) {
			0 => params.max_leverage = self.pick(&[0, 1, 5, 50, 100, u32::MAX]),
			1 => params.max_open_interest_long = self.amount(params.max_open_interest_long),
			2 => params.trading_fee = self.perbill(),
			3 => params.liquidation_discount = self.perbill(),
			4 => params.max_partial_liquidation = self.perbill(),
			5 => params.unit = self.amount(params.unit),
			6 => params.asset = self.pick(&[asset_ids::USD, asset_ids::DOT, asset_ids::NATIVE, 9]),
			// Minimum sizes in and out of bounds: 0, 1 USD, 100 USD, the bound, past it.
			7 => {
				let usd = perpchain_runtime::USD_UNIT;
				params.min_notional = self.pick(&[0, usd, 100 * usd, 100_000 * usd, u128::MAX]);
			},
			_ => {},
		}
		params
	}

	/// A governance call (wrapped in `sudo` by the caller).
	fn governance(&mut self) -> RuntimeCall {
		use pallet_liquidation::BreakerLevel;
		match self.below(13) {
			0..=2 => {
				let market = self.market();
				let params = self.market_params();
				RuntimeCall::Margin(pallet_margin::Call::update_market { market, params })
			},
			3 => RuntimeCall::Margin(pallet_margin::Call::create_market {
				params: self.market_params(),
			}),
			4 => {
				let asset = self.pick(&[asset_ids::DOT, asset_ids::NATIVE, asset_ids::USD, 5, 6]);
				let params = if self.chance(150) {
					None
				} else {
					Some(CollateralParams {
						unit: self.pick(&[
							presets::DOT_UNIT,
							perpchain_runtime::UNIT,
							1,
							0,
							10u128.pow(18),
						]),
						weight: self.near(Perbill::from_percent(70)),
						min_amount: self.pick(&[0, 1, presets::DOT_UNIT, u128::MAX]),
					})
				};
				RuntimeCall::Margin(pallet_margin::Call::set_collateral { asset, params })
			},
			5 => {
				let mut params = <Runtime as pallet_perp_oracle::Config>::DefaultParams::get();
				match self.below(6) {
					0 => params.max_age = self.pick(&[0, 1, 6_000, 60_000, 600_000, u64::MAX]),
					1 => params.min_feeders = self.pick(&[0, 1, 2, 3, 17]),
					2 => params.max_deviation = self.perbill(),
					3 => params.max_change_per_block = self.perbill(),
					4 => params.index_smoothing = self.perbill(),
					_ => params.volatility_decay = self.perbill(),
				}
				RuntimeCall::Oracle(pallet_perp_oracle::Call::set_params { params })
			},
			6 => {
				let who = actors::account(self.below(actors::SIGNERS as u64) as u8);
				if self.chance(700) {
					RuntimeCall::Oracle(pallet_perp_oracle::Call::add_feeder { who })
				} else {
					RuntimeCall::Oracle(pallet_perp_oracle::Call::remove_feeder { who })
				}
			},
			7 => {
				let asset = self.pick(&[
					asset_ids::NATIVE,
					asset_ids::BTC,
					asset_ids::ETH,
					asset_ids::DOT,
					5,
					9,
				]);
				if self.chance(750) {
					RuntimeCall::Oracle(pallet_perp_oracle::Call::add_asset { asset })
				} else {
					RuntimeCall::Oracle(pallet_perp_oracle::Call::remove_asset { asset })
				}
			},
			8 => {
				let asset =
					self.pick(&[asset_ids::BTC, asset_ids::ETH, asset_ids::DOT, asset_ids::NATIVE]);
				RuntimeCall::Oracle(pallet_perp_oracle::Call::reset_breaker { asset })
			},
			9 => {
				let running =
					pallet_liquidation::Breaker::<Runtime>::get() == BreakerLevel::Running;
				let level = if !running && self.chance(700) {
					BreakerLevel::Running
				} else {
					self.pick(&[
						BreakerLevel::Running,
						BreakerLevel::NoNewLiquidations,
						BreakerLevel::NoAuctions,
						BreakerLevel::Halted,
					])
				};
				RuntimeCall::Liquidation(pallet_liquidation::Call::set_breaker { level })
			},
			10 => {
				let mut params =
					<Runtime as pallet_liquidation::Config>::DefaultAuctionParams::get();
				match self.below(6) {
					0 => params.start_premium = self.perbill(),
					1 => params.step = self.perbill(),
					2 => params.floor = self.perbill(),
					3 => params.tail = self.pick(&[0, 1, 10, 200, 14_400, 14_401]),
					4 => params.tip = self.amount(params.tip),
					_ => params.dust = self.amount(params.dust),
				}
				RuntimeCall::Liquidation(pallet_liquidation::Call::set_params { params })
			},
			_ => {
				// The insurance fund, reached through `sudo_as`: it deposits what was sent to
				// it and pays into itself. (Root acting as a protocol account can do anything,
				// such as trading the fund away or adding to the auction account's holdings
				// behind the auctions' back; that is governance's power, not an attack.)
				let [_, who, _] = actors::protocol_accounts();
				let call = match self.below(2) {
					0 => self.deposit(&who),
					_ => RuntimeCall::Liquidation(pallet_liquidation::Call::fund_insurance {
						amount: self.amount(10 * USD_UNIT),
					}),
				};
				RuntimeCall::Sudo(pallet_sudo::Call::sudo_as {
					who: who.into(),
					call: Box::new(call),
				})
			},
		}
	}

	/// Bytes that decode as some call of some pallet (inherents excepted: a block with one
	/// out of place does not import).
	fn raw_call(&mut self) -> RuntimeCall {
		const PALLETS: [u8; 10] = [0, 4, 5, 6, 7, 8, 20, 21, 22, 3];
		for _ in 0..16 {
			let mut bytes = vec![self.pick(&PALLETS), self.below(20) as u8];
			for _ in 0..self.below(80) {
				bytes.push(self.rng.next_u64() as u8);
			}
			if let Ok(call) = RuntimeCall::decode(&mut &bytes[..]) {
				if !matches!(call, RuntimeCall::Timestamp(_)) {
					return call;
				}
			}
		}
		RuntimeCall::System(frame_system::Call::remark { remark: vec![0; 8] })
	}

	/// An unsigned transaction no honest worker would send: healthy accounts, duplicates, an
	/// empty batch, a deleveraging `max` out of bounds or too small, or raw bytes.
	fn forged_unsigned(&mut self) -> RuntimeCall {
		match self.below(4) {
			0 | 1 => {
				let mut accounts: Vec<AccountId> =
					(0..self.below(5)).map(|_| self.anyone()).collect();
				let candidates = pallet_liquidation::Pallet::<Runtime>::candidates(4);
				if !candidates.is_empty() && self.chance(500) {
					accounts.push(self.pick(&candidates));
				}
				if self.chance(200) {
					if let Some(first) = accounts.first().cloned() {
						accounts.push(first);
					}
				}
				RuntimeCall::Liquidation(pallet_liquidation::Call::liquidate {
					accounts: BoundedVec::truncate_from(accounts),
				})
			},
			2 => {
				// From nothing to past `MaxBatch`: an author asking for fewer positions than
				// recovery needs, or for none.
				use frame_support::traits::Get;
				let batch: u32 = <Runtime as pallet_liquidation::Config>::MaxBatch::get();
				let max = self.below(u64::from(batch) + 2) as u32;
				RuntimeCall::Liquidation(pallet_liquidation::Call::deleverage { max })
			},
			_ => self.raw_call(),
		}
	}
}
