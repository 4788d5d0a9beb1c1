//! How an account is valued: the prices it is taken at (`Pricing`), the snapshot of its
//! holdings at those prices, and the views derived from one snapshot.

use crate::{
	pallet::*,
	risk::{self, CollateralLine, Health, PositionLine},
	CollateralParams, Position,
};
use alloc::vec::Vec;
use frame_support::pallet_prelude::*;
use perp_primitives::{AssetId, Balance, MarketId, Price, PriceProvider, PriceStatus};
use sp_runtime::{ArithmeticError, Perbill};

/// How prices are taken when an account is evaluated.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Pricing {
	/// Every price involved must be `Fresh` (adding risk, withdrawing).
	FreshOnly,
	/// Every market's price must be `Fresh`; collateral whose price is not (stale, frozen or
	/// missing) counts at its last price for [`STALE_COLLATERAL_SHARE`] of its weight, and is
	/// not offered to auction (liquidating): a stale collateral price lowers what the account
	/// is worth, it does not keep its positions from being liquidated.
	Liquidation,
	/// The last known prices, whatever their status (reporting).
	LastKnown,
}

/// What counts, in a liquidation's valuation, of a collateral's weighted value while its price
/// is not fresh.
pub const STALE_COLLATERAL_SHARE: Perbill = Perbill::from_percent(50);

/// An account's collateral and positions with the prices they were valued at.
pub struct Snapshot<T: Config> {
	/// USD cash.
	pub cash: i128,
	/// Collateral holdings by asset.
	pub collateral: Vec<(AssetId, CollateralLine)>,
	/// Positions with their market and its price.
	pub markets: Vec<(Position, MarketParamsOf<T>, Price)>,
	/// Whether every price taken was fresh.
	pub all_fresh: bool,
	/// The collateral assets valued without a fresh price (`Pricing::Liquidation`).
	pub unpriced: Vec<AssetId>,
	/// The account's open collateral auctions.
	pub auctions: u32,
	/// Whether the account is marked crossed (a liquidation of it is under way).
	pub crossed: bool,
}

impl<T: Config> Snapshot<T> {
	/// The positions as `risk` takes them.
	pub fn position_lines(&self) -> Vec<PositionLine<'_>> {
		self.markets
			.iter()
			.map(|(position, params, price)| PositionLine {
				size: position.size,
				cost: position.cost,
				unit: params.unit,
				price: *price,
				tiers: &params.tiers,
			})
			.collect()
	}

	/// The collateral as `risk` takes it.
	pub fn collateral_lines(&self) -> Vec<CollateralLine> {
		self.collateral.iter().map(|(_, line)| *line).collect()
	}

	/// The positions as liquidation sees them, largest maintenance margin first (ties by
	/// market id).
	pub fn position_risks(&self) -> Vec<perp_primitives::PositionRisk> {
		let su = T::SettlementUnit::get();
		let mut risks: Vec<_> = self
			.position_lines()
			.iter()
			.zip(&self.markets)
			.map(|(line, (position, params, price))| {
				let notional = line.notional(su).unwrap_or(Balance::MAX);
				perp_primitives::PositionRisk {
					market: position.market,
					size: position.size,
					unit: params.unit,
					price: *price,
					cost: line.cost.unsigned_abs(),
					// (A PnL beyond 128 bits counts as none: such a position is not ranked.)
					pnl: line.pnl(su).unwrap_or_default(),
					initial: risk::requirement(notional, line.tiers, risk::initial),
					maintenance: risk::requirement(notional, line.tiers, risk::maintenance),
					discount: params.liquidation_discount,
					max_partial: params.max_partial_liquidation,
				}
			})
			.collect();
		risks.sort_by(|a, b| b.maintenance.cmp(&a.maintenance).then(a.market.cmp(&b.market)));
		risks
	}

	/// The non-settlement collateral as liquidation sees it, asset id order.
	pub fn collateral_risks(&self) -> Vec<perp_primitives::CollateralRisk> {
		let mut holdings: Vec<_> = self
			.collateral
			.iter()
			.filter(|(asset, _)| !self.unpriced.contains(asset))
			.map(|(asset, line)| perp_primitives::CollateralRisk {
				asset: *asset,
				amount: line.amount,
				unit: line.unit,
				price: line.price,
			})
			.collect();
		holdings.sort_by_key(|h| h.asset);
		holdings
	}

	/// The account as liquidation sees it; `None` on overflow.
	pub fn account_risk(&self) -> Option<perp_primitives::AccountRisk> {
		let health = self.health()?;
		Some(perp_primitives::AccountRisk {
			in_liquidation: self.crossed && Pallet::<T>::below_exit(&health),
			margins: health.into(),
			cash: self.cash,
			positions: self.position_risks(),
			collateral: self.collateral_risks(),
			unpriced_collateral: !self.unpriced.is_empty(),
			open_auctions: self.auctions,
		})
	}

	/// Equity and requirements; `None` on overflow.
	pub fn health(&self) -> Option<Health> {
		risk::evaluate(
			self.cash,
			&self.collateral_lines(),
			&self.position_lines(),
			T::SettlementUnit::get(),
		)
	}
}
/// What the valuations of one call share: each market's and collateral asset's parameters and
/// each asset's price, read on first use and kept. Within one call of a liquidation batch no
/// price or parameter changes (feeds and listings are calls of their own), so every account of
/// the batch is valued on the same reads; a `Quotes` must not outlive the call that made it.
pub struct Quotes<T: Config> {
	prices: Vec<(AssetId, perp_primitives::PriceInfo)>,
	markets: Vec<(MarketId, MarketParamsOf<T>)>,
	collateral: Vec<(AssetId, CollateralParams)>,
}

impl<T: Config> Default for Quotes<T> {
	fn default() -> Self {
		Self { prices: Vec::new(), markets: Vec::new(), collateral: Vec::new() }
	}
}

/// The value kept for `key` in `kept`, or what `read` gives, kept if it is `Some`.
fn kept_or_read<K: PartialEq + Copy, V: Clone>(
	kept: &mut Vec<(K, V)>,
	key: K,
	read: impl FnOnce() -> Option<V>,
) -> Option<V> {
	if let Some((_, value)) = kept.iter().find(|(k, _)| *k == key) {
		return Some(value.clone());
	}
	let value = read()?;
	kept.push((key, value.clone()));
	Some(value)
}

impl<T: Config> Quotes<T> {
	/// `asset`'s price as the oracle gives it.
	pub(crate) fn price(&mut self, asset: AssetId) -> perp_primitives::PriceInfo {
		// (The oracle always answers, `Missing` at worst: the fallback is never taken.)
		kept_or_read(&mut self.prices, asset, || Some(T::Prices::price(asset)))
			.unwrap_or_else(perp_primitives::PriceInfo::missing)
	}

	/// `market`'s parameters, `None` if it is not listed.
	pub(crate) fn market(&mut self, market: MarketId) -> Option<MarketParamsOf<T>> {
		kept_or_read(&mut self.markets, market, || Markets::<T>::get(market))
	}

	/// Collateral `asset`'s parameters, `None` if it is not listed.
	pub(crate) fn collateral(&mut self, asset: AssetId) -> Option<CollateralParams> {
		kept_or_read(&mut self.collateral, asset, || CollateralAssets::<T>::get(asset))
	}
}

impl<T: Config> Pallet<T> {
	/// The cash, collateral and positions of `account`, at prices taken as `pricing` says.
	pub(crate) fn snapshot(
		account: &MarginAccountOf<T>,
		pricing: Pricing,
	) -> Result<Snapshot<T>, DispatchError> {
		Self::snapshot_with(account, pricing, &mut Quotes::default())
	}

	/// [`Self::snapshot`] on the parameters and prices of `quotes`.
	pub(crate) fn snapshot_with(
		account: &MarginAccountOf<T>,
		pricing: Pricing,
		quotes: &mut Quotes<T>,
	) -> Result<Snapshot<T>, DispatchError> {
		let mut all_fresh = true;
		// The price of `asset` and whether it is fresh, or the error `pricing` makes of it.
		let mut price_of = |quotes: &mut Quotes<T>,
		                    asset: AssetId,
		                    collateral: bool|
		 -> Result<(Price, bool), DispatchError> {
			let info = quotes.price(asset);
			let fresh = info.status == PriceStatus::Fresh;
			all_fresh &= fresh;
			match pricing {
				Pricing::FreshOnly if !fresh => Err(Error::<T>::PriceNotFresh.into()),
				Pricing::Liquidation if !fresh && !collateral => {
					Err(Error::<T>::PriceNotFresh.into())
				},
				_ => Ok((info.price, fresh)),
			}
		};
		let mut unpriced = Vec::new();
		let mut collateral = Vec::with_capacity(account.collateral.len());
		for &(asset, amount) in &account.collateral {
			let params = quotes.collateral(asset).ok_or(Error::<T>::UnknownAsset)?;
			let (price, fresh) = price_of(quotes, asset, true)?;
			let weight = if fresh || pricing != Pricing::Liquidation {
				params.weight
			} else {
				unpriced.push(asset);
				STALE_COLLATERAL_SHARE * params.weight
			};
			collateral.push((asset, CollateralLine { amount, unit: params.unit, price, weight }));
		}
		let mut markets = Vec::with_capacity(account.positions.len());
		for position in &account.positions {
			let params = quotes.market(position.market).ok_or(Error::<T>::UnknownMarket)?;
			let (price, _) = price_of(quotes, params.asset, false)?;
			markets.push((*position, params, price));
		}
		Ok(Snapshot {
			cash: account.cash,
			collateral,
			markets,
			all_fresh,
			unpriced,
			auctions: account.auctions,
			crossed: account.crossed,
		})
	}

	/// `who`'s snapshot as liquidation values it (`Pricing::Liquidation`); `None` without an
	/// account or a fresh price of a market it holds.
	pub(crate) fn liquidation_snapshot(
		who: &T::AccountId,
		quotes: &mut Quotes<T>,
	) -> Option<Snapshot<T>> {
		let account = Accounts::<T>::get(who)?;
		Self::snapshot_with(&account, Pricing::Liquidation, quotes).ok()
	}

	/// Evaluates `account` as [`Self::snapshot`] describes.
	pub fn evaluate(
		account: &MarginAccountOf<T>,
		pricing: Pricing,
	) -> Result<Health, DispatchError> {
		Self::snapshot(account, pricing)?
			.health()
			.ok_or_else(|| ArithmeticError::Overflow.into())
	}
}
