//! One scenario: a population and a price path through the real runtime, block by block, with
//! the liquidation offchain worker's submissions applied in the next block as the node applies
//! them, keepers taking auctions, and the liquidations' selling fed back into the prices.
//!
//! Each block: the feeders feed (feeds go first in a real block: they outrank everything),
//! then the worker's batches from the block before, then the keepers; then the block's events
//! are read, the impact of what was sold moves the next block's prices, and every account is
//! checked for crossing its maintenance margin (independently of the chain's discovery: an
//! account is valued again once a price it depends on has moved by half its distance to
//! maintenance, measured from its last valuation).

use crate::{
	paths::{Asset, Path, ASSETS, START},
	population::{self, Trader},
};
use frame_support::{traits::fungibles::Mutate, BoundedVec};
use perp_primitives::{HealthState, Price};
use perpchain_fuzz::chain::{self, Chain, StatePairs};
use perpchain_runtime::{
	asset_ids, configs::NativeAndAssets, genesis_config_presets as presets, AccountId, Balance,
	Liquidation, Margin, Runtime, RuntimeCall, RuntimeEvent, RuntimeOrigin, USD_UNIT,
};
use sp_runtime::{traits::Dispatchable, Perbill};
use std::collections::{BTreeMap, BTreeSet};

type LiquidationEvent = pallet_liquidation::Event<Runtime>;

/// How the oracle's feeders misbehave.
#[derive(Clone, Debug, PartialEq)]
pub enum Feeds {
	/// All three feed the price every block.
	Honest,
	/// From block `from` to `to` only one feeder feeds: below the quorum of two, prices go
	/// stale once their last quorum is older than the oracle's `max_age`.
	Outage { from: u32, to: u32 },
	/// One feeder feeds 20% above the price.
	Liar,
	/// Every feeder feeds the price of `blocks` blocks before.
	Lag { blocks: u32 },
}

/// A liquidation policy, set through the runtime's own governance calls (Root, as `sudo`).
#[derive(Clone, Debug)]
pub struct Policy {
	pub name: String,
	/// The markets' close factor, the largest share of a position one liquidation closes;
	/// `None` keeps genesis's (100%).
	pub max_partial: Option<Perbill>,
	/// The markets' liquidation discount; `None` keeps genesis's.
	pub discount: Option<Perbill>,
	/// USD paid into the insurance fund before the path starts.
	pub insurance: f64,
}

impl Policy {
	/// Genesis's parameters, with a 500,000 USD insurance fund.
	pub fn baseline() -> Policy {
		Policy { name: "baseline".into(), max_partial: None, discount: None, insurance: 500_000.0 }
	}

	/// The policies `name` names: `baseline`; `close-factor-25` (one liquidation closes at most
	/// a quarter of a position: `max_partial_liquidation` 25% instead of 100%); `discount-2` (a 2%
	/// liquidation discount instead of 1%); `small-fund` (a 50,000 USD insurance fund).
	pub fn named(name: &str) -> Option<Policy> {
		let base = Policy::baseline();
		Some(match name {
			"baseline" => base,
			"close-factor-25" => Policy { max_partial: Some(Perbill::from_percent(25)), ..base },
			"discount-2" => Policy { discount: Some(Perbill::from_percent(2)), ..base },
			"small-fund" => Policy { insurance: 50_000.0, ..base },
			_ => return None,
		})
		.map(|p| Policy { name: name.into(), ..p })
	}
}

/// A scenario: a path, how the oracle sees it, and the market depth that turns liquidated
/// notional into price impact.
#[derive(Clone, Debug)]
pub struct Scenario {
	pub path: Path,
	pub feeds: Feeds,
	/// By asset index: the USD of net selling in one block that moves the next block's price
	/// by 1% (`None`: no feedback).
	pub depth: Option<[f64; 4]>,
}

/// The default depths: 20 million USD of selling moves BTC by 1%, 10 million ETH, 2 million DOT
/// and 1 million the native token.
pub const DEPTH: [f64; 4] = [20e6, 10e6, 2e6, 1e6];

/// What one block showed.
#[derive(Clone, Debug, Default)]
pub struct Tick {
	/// The true price of each asset (path × impact).
	pub prices: [f64; 4],
	/// USD notional of positions liquidated.
	pub liquidated: f64,
	/// The insurance fund's USD.
	pub fund: f64,
	/// Bad debt so far: shortfall the fund did not pay (socialized to the vault).
	pub bad_debt: f64,
	/// Accounts below maintenance and not liquidated (yet) at the block's end.
	pub waiting: u32,
}

/// What a scenario measured.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
	pub scenario: String,
	pub policy: String,
	pub accounts: u32,
	/// Trades or deposits of the population the runtime refused (by error).
	pub setup_errors: BTreeMap<String, u32>,
	pub ticks: Vec<Tick>,
	pub liquidations_full: u32,
	pub liquidations_partial: u32,
	pub accounts_liquidated: u32,
	/// Blocks from the valuation that found an account below maintenance (the first of the
	/// spell it was liquidated in) to its first liquidation.
	pub delays: Vec<u32>,
	/// Accounts that were below maintenance at some block and never liquidated: above it again
	/// at the end (prices came back before their turn), and still below it (missed).
	pub recovered: u32,
	pub missed: u32,
	/// Shortfalls: paid by the insurance fund, and socialized.
	pub insurance_paid: f64,
	pub socialized: f64,
	/// Collateral auctions started and takes of them; holdings folded into the fund instead
	/// (below the minimum lot).
	pub auctions: u32,
	pub takes: u32,
	pub folded: u32,
	/// Profit given up to auto-deleveraging, and the positions it closed.
	pub adl_recovered: f64,
	pub adl_closes: u32,
	pub fund_start: f64,
	pub fund_min: f64,
	/// The vault's USD at the start and at the end.
	pub vault_start: f64,
	pub vault_end: f64,
	/// Users' liquidation losses: penalties, the discount of closes below the price, the
	/// discount of collateral sold in auctions below the price.
	pub penalties: f64,
	pub close_discount: f64,
	pub auction_discount: f64,
	/// The liquidated accounts' equity at the start.
	pub liquidated_equity: f64,
	/// Accounts liquidated although the chain's own valuation (as liquidation values them)
	/// put them out of liquidation just before (above maintenance, and above the exit of any
	/// liquidation under way): must be 0.
	pub healthy_liquidated: u32,
	/// Accounts liquidated although at the true prices (the path's, every one fresh) they were
	/// out of liquidation just before: what a stale, frozen, lagging or lying oracle costs users.
	pub above_at_true_prices: u32,
	/// USD created or destroyed in margin's books (custody against cash, vault, fees and the
	/// reserve), end against start.
	pub conservation_drift: i128,
	/// `try_state` of every pallet at the end: the failure, if any.
	pub try_state: Option<String>,
	/// Blocks whose price some asset was not fresh at the end of.
	pub stale_blocks: u32,
	pub wall_seconds: f64,
}

impl Outcome {
	/// Users' liquidation losses over the liquidated accounts' starting equity.
	pub fn loss_share(&self) -> f64 {
		let loss = self.penalties + self.close_discount + self.auction_discount;
		if self.liquidated_equity > 0.0 {
			loss / self.liquidated_equity
		} else {
			0.0
		}
	}

	/// A percentile of the crossing-to-liquidation delays.
	pub fn delay(&self, percentile: f64) -> u32 {
		let mut delays = self.delays.clone();
		delays.sort_unstable();
		if delays.is_empty() {
			return 0;
		}
		let i = ((delays.len() - 1) as f64 * percentile).round() as usize;
		delays[i.min(delays.len() - 1)]
	}

	/// The failures that make a run invalid.
	pub fn failures(&self) -> Vec<String> {
		let mut failures = Vec::new();
		if self.healthy_liquidated > 0 {
			failures.push(format!("{} healthy accounts liquidated", self.healthy_liquidated));
		}
		if self.conservation_drift != 0 {
			failures.push(format!("conservation drift of {} USD units", self.conservation_drift));
		}
		if let Some(e) = &self.try_state {
			failures.push(e.clone());
		}
		failures
	}
}

/// An account's distance to maintenance, for the crossing check: the prices it was valued at
/// and the relative move of any of them it survives for sure.
#[derive(Clone, Copy)]
struct Watch {
	prices: [f64; 4],
	safe: f64,
}

fn usd(amount: Balance) -> f64 {
	amount as f64 / USD_UNIT as f64
}

fn signed_usd(amount: i128) -> f64 {
	amount as f64 / USD_UNIT as f64
}

fn price_of(asset: Asset) -> perp_primitives::AssetId {
	match asset {
		Asset::Btc => asset_ids::BTC,
		Asset::Eth => asset_ids::ETH,
		Asset::Dot => asset_ids::DOT,
		Asset::Native => asset_ids::NATIVE,
	}
}

fn unit_of(asset: Asset) -> Balance {
	match asset {
		Asset::Btc => presets::BTC_UNIT,
		Asset::Eth => presets::ETH_UNIT,
		Asset::Dot => presets::DOT_UNIT,
		Asset::Native => perpchain_runtime::UNIT,
	}
}

/// The asset the oracle prices under `id`, if it is one of the priced assets.
fn asset_of(id: perp_primitives::AssetId) -> Option<Asset> {
	ASSETS.into_iter().find(|a| price_of(*a) == id)
}

/// The asset index of a market (0 BTC-PERP, 1 ETH-PERP).
fn market_asset(market: u32) -> Asset {
	if market == 0 {
		Asset::Btc
	} else {
		Asset::Eth
	}
}

fn fixed(value: f64) -> Price {
	Price::from_inner((value.max(0.0) * 1e18) as u128)
}

fn to_f64(price: Price) -> f64 {
	price.into_inner() as f64 / 1e18
}

/// Dispatches `call` from `origin` as the runtime would (the pallets' own checks), outside an
/// extrinsic: for the setup, the keepers and governance.
fn dispatch(origin: RuntimeOrigin, call: RuntimeCall) -> Result<(), String> {
	call.dispatch(origin).map(|_| ()).map_err(|e| format!("{:?}", e.error))
}

/// The market account that provides liquidity to the scenario: it funds the vault, the
/// insurance fund and the keepers.
fn lp() -> AccountId {
	AccountId::from([0x5e; 32])
}

/// The keeper that takes and restarts auctions.
fn keeper() -> AccountId {
	AccountId::from([0x6b; 32])
}

fn mint(asset: perp_primitives::AssetId, who: &AccountId, amount: Balance) {
	let _ = <NativeAndAssets as Mutate<AccountId>>::mint_into(asset, who, amount);
}

/// Margin's USD books against custody: custody's USD less every account's cash, the vault, the
/// fees and the reserve (zero drift: no unit created or lost).
fn books() -> i128 {
	use frame_support::traits::fungibles::Inspect;
	let custody = pallet_margin::Pallet::<Runtime>::custody_account();
	let held = <NativeAndAssets as Inspect<AccountId>>::balance(asset_ids::USD, &custody) as i128;
	let cash: i128 = pallet_margin::Accounts::<Runtime>::iter_values().map(|a| a.cash).sum();
	let reserve = pallet_margin::CustodyReserve::<Runtime>::get(asset_ids::USD) as i128;
	held - cash
		- pallet_margin::Vault::<Runtime>::get()
		- pallet_margin::Fees::<Runtime>::get() as i128
		- reserve
}

/// Feeds `prices` (USD by asset index) from the feeders `feeders` (signer indices) as signed
/// extrinsics.
fn feed(feeders: &[(u8, f64)], prices: [f64; 4]) {
	for &(feeder, factor) in feeders {
		let values: Vec<_> = ASSETS
			.iter()
			.map(|a| (price_of(*a), fixed(prices[*a as usize] * factor)))
			.collect();
		let call = RuntimeCall::Oracle(pallet_perp_oracle::Call::feed {
			values: BoundedVec::truncate_from(values),
		});
		let _ = chain::apply(chain::signed(feeder, call));
	}
}

/// Sets `policy` through governance and funds the protocol's accounts.
fn govern(policy: &Policy) -> Result<(), String> {
	let root = || RuntimeOrigin::root();
	for (market, mut params) in pallet_margin::Markets::<Runtime>::iter().collect::<Vec<_>>() {
		// Room for the whole population: open interest caps of 100 times genesis's.
		params.max_open_interest_long = params.max_open_interest_long.saturating_mul(100);
		params.max_open_interest_short = params.max_open_interest_short.saturating_mul(100);
		if let Some(share) = policy.max_partial {
			params.max_partial_liquidation = share;
		}
		if let Some(discount) = policy.discount {
			params.liquidation_discount = discount;
		}
		let call = pallet_margin::Call::update_market { market, params };
		dispatch(root(), RuntimeCall::Margin(call)).map_err(|e| format!("update_market: {e}"))?;
	}
	let lp = lp();
	let vault = 200_000_000 * USD_UNIT;
	let insurance = population::units(policy.insurance, USD_UNIT);
	mint(asset_ids::USD, &lp, vault + insurance + USD_UNIT);
	let signed = || RuntimeOrigin::signed(lp.clone());
	// The vault is funded from the wallet, the insurance fund from margin cash.
	let fund_vault = pallet_margin::Call::fund_vault { amount: vault };
	dispatch(signed(), RuntimeCall::Margin(fund_vault)).map_err(|e| format!("fund_vault: {e}"))?;
	if insurance > 0 {
		let deposit = pallet_margin::Call::deposit { asset: asset_ids::USD, amount: insurance };
		dispatch(signed(), RuntimeCall::Margin(deposit)).map_err(|e| format!("LP deposit: {e}"))?;
		let fund = pallet_liquidation::Call::fund_insurance { amount: insurance };
		dispatch(signed(), RuntimeCall::Liquidation(fund))
			.map_err(|e| format!("fund_insurance: {e}"))?;
	}
	let keeper = keeper();
	let cash = 500_000_000 * USD_UNIT;
	mint(asset_ids::USD, &keeper, cash + USD_UNIT);
	let deposit = pallet_margin::Call::deposit { asset: asset_ids::USD, amount: cash };
	dispatch(RuntimeOrigin::signed(keeper), RuntimeCall::Margin(deposit))
		.map_err(|e| format!("keeper deposit: {e}"))
}

/// Opens `trader`'s account: mints its funds, deposits them and trades, as its own calls.
fn open(trader: &Trader, errors: &mut BTreeMap<String, u32>) {
	let who = &trader.who;
	let signed = || RuntimeOrigin::signed(who.clone());
	let mut note = |r: Result<(), String>| {
		if let Err(e) = r {
			*errors.entry(e).or_default() += 1;
		}
	};
	let usd = population::units(trader.usd, USD_UNIT);
	mint(asset_ids::NATIVE, who, perpchain_runtime::EXISTENTIAL_DEPOSIT * 10);
	mint(asset_ids::USD, who, usd + USD_UNIT);
	note(dispatch(
		signed(),
		RuntimeCall::Margin(pallet_margin::Call::deposit { asset: asset_ids::USD, amount: usd }),
	));
	if let Some((asset, amount)) = trader.collateral {
		let amount = population::units(amount, unit_of(asset));
		mint(price_of(asset), who, amount.saturating_mul(2));
		let call = pallet_margin::Call::deposit { asset: price_of(asset), amount };
		note(dispatch(signed(), RuntimeCall::Margin(call)));
	}
	for &(market, notional) in &trader.trades {
		let asset = market_asset(market);
		let size = notional / START[asset as usize] * unit_of(asset) as f64;
		let call = pallet_margin::Call::trade { market, delta: size as i128 };
		note(dispatch(signed(), RuntimeCall::Margin(call)));
	}
}

/// Values `who` (at the prices last fed): its state, equity and its watch.
fn value(who: &AccountId, prices: [f64; 4]) -> Option<(HealthState, f64, Watch)> {
	let summary = Margin::account_summary(who)?;
	if summary.positions.is_empty() {
		return None;
	}
	let exposure: f64 = summary.positions.iter().map(|p| usd(p.notional) * 1.1).sum::<f64>()
		+ summary.collateral.iter().map(|c| usd(c.weighted_value)).sum::<f64>();
	let buffer = signed_usd(summary.equity) - usd(summary.maintenance);
	let safe = if exposure > 0.0 { (buffer / exposure).max(0.0) / 2.0 } else { 0.0 };
	Some((summary.state, signed_usd(summary.equity), Watch { prices, safe }))
}

/// Whether the chain's own valuation puts `who` in liquidation now: below maintenance, or in a
/// liquidation under way and below its exit (`AccountRisk::in_liquidation`).
fn in_liquidation(who: &AccountId) -> bool {
	use perp_primitives::MarginReader;
	Margin::risk(who, &mut Default::default())
		.is_some_and(|risk| risk.margins.state().is_liquidatable() || risk.in_liquidation)
}

/// Whether `who` is in liquidation (see [`in_liquidation`]) with every price fresh at
/// `prices` (in a state thrown away afterwards).
fn liquidatable_at(who: &AccountId, prices: [f64; 4]) -> bool {
	chain::rolled_back(|| {
		for asset in ASSETS {
			let price = fixed(prices[asset as usize]);
			pallet_perp_oracle::Pallet::<Runtime>::set_fresh_price(price_of(asset), price);
		}
		in_liquidation(who)
	})
}

/// Whether a price moved by more than `watch` allows since the account was valued.
fn moved(watch: &Watch, prices: [f64; 4]) -> bool {
	watch
		.prices
		.iter()
		.zip(prices)
		.any(|(then, now)| *then > 0.0 && ((now - then) / then).abs() >= watch.safe)
}

/// Runs `scenario` under `policy` over `traders`.
/// The state after `traders` open their accounts at the starting prices under the baseline
/// policy, in block 1 (as `run` starts), that block finished: every key with its value, and
/// the setup's errors by kind.
pub fn snapshot(traders: &[Trader]) -> Result<(StatePairs, BTreeMap<String, u32>), String> {
	let mut chain = Chain::new()?;
	chain.check_blocks = false;
	let errors = setup(&mut chain, &Policy::baseline(), traders)?;
	chain.try_state()?;
	Ok((chain.finish()?, errors))
}

/// The three feeders, each feeding the true price.
fn honest() -> Vec<(u8, f64)> {
	vec![(0, 1.0), (1, 1.0), (2, 1.0)]
}

/// Block 1 of every run: the starting prices, `policy` through governance, then `traders`
/// open their accounts. Returns the traders' failed calls by error.
fn setup(
	chain: &mut Chain,
	policy: &Policy,
	traders: &[Trader],
) -> Result<BTreeMap<String, u32>, String> {
	let mut errors = BTreeMap::new();
	chain.execute(|| -> Result<(), String> {
		feed(&honest(), START);
		govern(policy)?;
		for trader in traders {
			open(trader, &mut errors);
		}
		Ok(())
	})?;
	Ok(errors)
}

pub fn run(scenario: &Scenario, policy: &Policy, traders: &[Trader]) -> Result<Outcome, String> {
	let started = std::time::Instant::now();
	let mut chain = Chain::new()?;
	chain.check_blocks = false;
	let mut outcome = Outcome {
		scenario: scenario.path.name.clone(),
		policy: policy.name.clone(),
		accounts: traders.len() as u32,
		..Default::default()
	};
	let honest = honest();
	outcome.setup_errors = setup(&mut chain, policy, traders)?;
	chain.next_block(perpchain_runtime::SLOT_DURATION, true)?;

	let index: BTreeMap<AccountId, usize> =
		traders.iter().enumerate().map(|(i, t)| (t.who.clone(), i)).collect();
	let mut equity = vec![0.0; traders.len()];
	let mut watches: Vec<Option<Watch>> = vec![None; traders.len()];
	chain.execute(|| {
		for (i, t) in traders.iter().enumerate() {
			if let Some((_, e, w)) = value(&t.who, START) {
				equity[i] = e;
				watches[i] = Some(w);
			}
		}
	});
	let (fund, vault, drift) = chain.execute(|| {
		let fund = Liquidation::fund_view().cash;
		(signed_usd(fund), signed_usd(pallet_margin::Vault::<Runtime>::get()), books())
	});
	outcome.fund_start = fund;
	outcome.fund_min = fund;
	outcome.vault_start = vault;

	// The block each account last went below maintenance in (while it stays below), and
	// whether it ever did.
	let mut crossed: Vec<Option<u32>> = vec![None; traders.len()];
	let mut ever = vec![false; traders.len()];
	let mut liquidated: BTreeSet<usize> = BTreeSet::new();
	// Each auction's asset, kept past its end (a take that ends it removes it from storage).
	let mut auctioned: BTreeMap<pallet_liquidation::AuctionId, Asset> = BTreeMap::new();
	let mut impact = [1.0f64; 4];
	let mut history: Vec<[f64; 4]> = Vec::new();
	for (b, multiples) in scenario.path.blocks.iter().enumerate() {
		let b = b as u32;
		let prices: [f64; 4] = std::array::from_fn(|i| START[i] * multiples[i] * impact[i]);
		history.push(prices);
		let pending = chain.take_pending();
		let tick = chain.execute(|| {
			// The feeds first, as in a real block.
			match &scenario.feeds {
				Feeds::Honest => feed(&honest, prices),
				Feeds::Liar => feed(&[(0, 1.0), (1, 1.0), (2, 1.2)], prices),
				Feeds::Outage { from, to } if (*from..*to).contains(&b) => {
					feed(&[(0, 1.0)], prices)
				},
				Feeds::Outage { .. } => feed(&honest, prices),
				Feeds::Lag { blocks } => {
					let then = history.len().saturating_sub(1 + *blocks as usize);
					feed(&honest, history[then]);
				},
			}
			// The worker's batches from the block before, each account judged first: by the
			// chain's own valuation, and at the true prices.
			let mut before: BTreeMap<AccountId, (bool, bool)> = BTreeMap::new();
			for xt in pending {
				if let RuntimeCall::Liquidation(pallet_liquidation::Call::liquidate { accounts }) =
					&xt.function
				{
					for who in accounts.iter() {
						let chain_says = in_liquidation(who);
						before.insert(who.clone(), (chain_says, liquidatable_at(who, prices)));
					}
				}
				let _ = chain::apply(xt);
			}
			// Keepers: take every auction at or below the price, restart the stalled ones.
			for view in Liquidation::auction_views() {
				let origin = RuntimeOrigin::signed(keeper());
				let call = if view.needs_restart {
					pallet_liquidation::Call::restart { id: view.id }
				} else {
					// Only at or below the true price: a keeper does not overpay.
					let asset = asset_of(view.auction.asset);
					if asset.is_none_or(|a| to_f64(view.price) > prices[a as usize]) {
						continue;
					}
					pallet_liquidation::Call::take {
						id: view.id,
						max_amount: view.auction.lot,
						max_price: view.price,
					}
				};
				let _ = dispatch(origin, RuntimeCall::Liquidation(call));
			}

			// What the block did.
			let mut tick = Tick { prices, ..Default::default() };
			let mut sold = [0.0f64; 4];
			for record in frame_system::Pallet::<Runtime>::events() {
				match record.event {
					RuntimeEvent::Liquidation(LiquidationEvent::Liquidated {
						who,
						full,
						closes,
						..
					}) => {
						// (Auto-deleveraging closes at the entry price with no penalty and
						// sells nothing to the market: the vault takes the position back. Its
						// own event counts it.)
						for close in closes {
							let asset = market_asset(close.market);
							let units = close.closed as f64 / unit_of(asset) as f64;
							let price = to_f64(close.price);
							tick.liquidated += units.abs() * price;
							// A long closed is sold, a short bought back.
							sold[asset as usize] += units * price;
							outcome.penalties += usd(close.penalty);
							outcome.close_discount +=
								units.abs() * (prices[asset as usize] - price).abs();
						}
						if full {
							outcome.liquidations_full += 1;
						} else {
							outcome.liquidations_partial += 1;
						}
						if let Some((chain_says, truth)) = before.get(&who) {
							outcome.healthy_liquidated += u32::from(!chain_says);
							outcome.above_at_true_prices += u32::from(!truth);
						}
						if let Some(&i) = index.get(&who) {
							if liquidated.insert(i) {
								outcome.liquidated_equity += equity[i].max(0.0);
								if let Some(c) = crossed[i] {
									outcome.delays.push(b.saturating_sub(c));
								}
							}
						}
					},
					RuntimeEvent::Liquidation(LiquidationEvent::AuctionStarted {
						id,
						asset,
						..
					}) => {
						outcome.auctions += 1;
						if let Some(a) = asset_of(asset) {
							auctioned.insert(id, a);
						}
					},
					RuntimeEvent::Liquidation(LiquidationEvent::AuctionTaken {
						id,
						amount,
						price,
						..
					}) => {
						outcome.takes += 1;
						if let Some(&asset) = auctioned.get(&id) {
							let (units, price) =
								(amount as f64 / unit_of(asset) as f64, to_f64(price));
							sold[asset as usize] += units * price;
							outcome.auction_discount +=
								units * (prices[asset as usize] - price).max(0.0);
						}
					},
					RuntimeEvent::Liquidation(LiquidationEvent::CollateralFolded { .. }) => {
						outcome.folded += 1;
					},
					RuntimeEvent::Liquidation(LiquidationEvent::ShortfallSettled {
						insurance,
						socialized,
						..
					}) => {
						outcome.insurance_paid += usd(insurance);
						outcome.socialized += usd(socialized);
					},
					RuntimeEvent::Liquidation(LiquidationEvent::Deleveraged {
						recovered, ..
					}) => {
						outcome.adl_recovered += usd(recovered);
						outcome.adl_closes += 1;
					},
					_ => {},
				}
			}
			if let Some(depth) = scenario.depth {
				for i in 0..4 {
					impact[i] *= (1.0 - 0.01 * sold[i] / depth[i]).clamp(0.5, 1.5);
				}
			}
			// Crossings, at this block's prices.
			for (i, t) in traders.iter().enumerate() {
				let Some(watch) = &watches[i] else { continue };
				// Only the first liquidation counts: an account is followed until then.
				if liquidated.contains(&i) {
					continue;
				}
				if !moved(watch, prices) && watch.safe > 0.0 {
					continue;
				}
				match value(&t.who, prices) {
					Some((state, _, w)) => {
						if !state.is_liquidatable() {
							// Above maintenance again: a later crossing starts its own count.
							crossed[i] = None;
						} else if crossed[i].is_none() {
							crossed[i] = Some(b);
							ever[i] = true;
						}
						watches[i] = Some(w);
					},
					None => watches[i] = None,
				}
			}
			tick.waiting = (0..traders.len())
				.filter(|i| crossed[*i].is_some() && !liquidated.contains(i))
				.count() as u32;
			tick.fund = signed_usd(Liquidation::fund_view().cash);
			tick.bad_debt = outcome.socialized;
			let stale = ASSETS.iter().any(|a| {
				use perp_primitives::PriceProvider;
				perpchain_runtime::Oracle::price(price_of(*a)).fresh().is_none()
			});
			(tick, stale)
		});
		let (tick, stale) = tick;
		outcome.fund_min = outcome.fund_min.min(tick.fund);
		outcome.stale_blocks += u32::from(stale);
		outcome.ticks.push(tick);
		chain.next_block(perpchain_runtime::SLOT_DURATION, true)?;
	}
	outcome.accounts_liquidated = liquidated.len() as u32;
	chain.execute(|| {
		for i in (0..traders.len()).filter(|i| ever[*i] && !liquidated.contains(i)) {
			let below =
				Margin::account_summary(&traders[i].who).is_some_and(|s| s.state.is_liquidatable());
			if below {
				outcome.missed += 1;
			} else {
				outcome.recovered += 1;
			}
		}
	});
	let (vault, end) =
		chain.execute(|| (signed_usd(pallet_margin::Vault::<Runtime>::get()), books()));
	outcome.vault_end = vault;
	outcome.conservation_drift = end - drift;
	outcome.try_state = chain.try_state().err();
	outcome.wall_seconds = started.elapsed().as_secs_f64();
	Ok(outcome)
}
