//! The `do_*` functions behind the calls, and aggregation against storage.

use crate::{aggregation, pallet::*, types::*};
use alloc::vec::Vec;
use frame_support::{ensure, pallet_prelude::*, traits::UnixTime};
use frame_system::pallet_prelude::BlockNumberFor;
use perp_primitives::{AssetId, Moment, Price};
use sp_runtime::Perbill;

impl<T: Config> Pallet<T> {
	pub(crate) fn do_add_feeder(who: T::AccountId) -> DispatchResult {
		let mut feeders = Feeders::<T>::get();
		let at = match feeders.binary_search(&who) {
			Ok(_) => return Err(Error::<T>::AlreadyFeeder.into()),
			Err(at) => at,
		};
		feeders.try_insert(at, who.clone()).map_err(|_| Error::<T>::TooManyFeeders)?;
		Feeders::<T>::put(feeders);
		Self::deposit_event(Event::FeederAdded { who });
		Ok(())
	}

	pub(crate) fn do_remove_feeder(who: T::AccountId) -> DispatchResult {
		let mut feeders = Feeders::<T>::get();
		let at = feeders.binary_search(&who).map_err(|_| Error::<T>::NotFeeder)?;
		feeders.remove(at);
		Feeders::<T>::put(feeders);
		FedIn::<T>::remove(&who);
		let assets: Vec<AssetId> = Assets::<T>::iter_keys().collect();
		for asset in assets {
			let mut values = Assets::<T>::get(asset).unwrap_or_default();
			if let Ok(at) = Self::find_value(&values, &who) {
				values.remove(at);
				Assets::<T>::insert(asset, &values);
				Self::aggregate_values(asset, &values, false);
			}
		}
		Self::deposit_event(Event::FeederRemoved { who });
		Ok(())
	}

	pub(crate) fn do_add_asset(asset: AssetId) -> DispatchResult {
		ensure!(!Assets::<T>::contains_key(asset), Error::<T>::AssetAlreadyListed);
		ensure!(Assets::<T>::count() < T::MaxAssets::get(), Error::<T>::TooManyAssets);
		Assets::<T>::insert(asset, ValuesOf::<T>::default());
		Self::deposit_event(Event::AssetAdded { asset });
		Ok(())
	}

	pub(crate) fn do_remove_asset(asset: AssetId) -> DispatchResult {
		ensure!(Assets::<T>::contains_key(asset), Error::<T>::UnknownAsset);
		ensure!(
			!<T::PriceUsers as perp_primitives::PriceUsers>::uses(asset),
			Error::<T>::AssetInUse
		);
		// Its values go with it.
		Assets::<T>::remove(asset);
		Aggregates::<T>::remove(asset);
		Self::deposit_event(Event::AssetRemoved { asset });
		Ok(())
	}

	pub(crate) fn do_set_params(params: OracleParams) -> DispatchResult {
		Self::ensure_valid_params(&params)?;
		Params::<T>::put(params);
		Self::deposit_event(Event::ParamsSet { params });
		// An aggregate accepted under the old rules (values now too old, too few feeders)
		// would otherwise stay in force until the next feed.
		let assets: Vec<AssetId> = Assets::<T>::iter_keys().collect();
		for asset in assets {
			Self::aggregate(asset, false);
		}
		Ok(())
	}

	pub(crate) fn do_reset_breaker(asset: AssetId) -> DispatchResult {
		ensure!(Assets::<T>::contains_key(asset), Error::<T>::UnknownAsset);
		let mut aggregate = Aggregates::<T>::get(asset).ok_or(Error::<T>::NotFrozen)?;
		ensure!(aggregate.frozen_since.is_some(), Error::<T>::NotFrozen);
		aggregate.frozen_since = None;
		aggregate.base = None;
		Aggregates::<T>::insert(asset, aggregate);
		Self::deposit_event(Event::BreakerReset { asset, price: None, by_governance: true });
		Self::aggregate(asset, false);
		Ok(())
	}

	/// Whether `who` may feed `values` now: a feeder that has not fed in this block, feeding
	/// listed assets once each, at valid prices. Writes nothing: `feed` runs it first,
	/// and the runtime runs it at the pool, so that only a feed that would be accepted takes
	/// the operational space.
	pub fn check_feed(who: &T::AccountId, values: &[(AssetId, Price)]) -> DispatchResult {
		ensure!(Feeders::<T>::get().binary_search(who).is_ok(), Error::<T>::NoPermission);
		ensure!(!values.is_empty(), Error::<T>::EmptyFeed);
		let max_price = T::MaxPrice::get();
		let mut seen: Vec<AssetId> = Vec::with_capacity(values.len());
		for (asset, price) in values {
			ensure!(Assets::<T>::contains_key(asset), Error::<T>::UnknownAsset);
			ensure!(!price.is_zero() && *price <= max_price, Error::<T>::InvalidPrice);
			ensure!(!seen.contains(asset), Error::<T>::DuplicateAsset);
			seen.push(*asset);
		}
		// Once a block, whatever the assets: the feeds' room counts one feed per feeder.
		let block = frame_system::Pallet::<T>::block_number();
		ensure!(FedIn::<T>::get(who) != Some(block), Error::<T>::AlreadyFed);
		Ok(())
	}

	/// Records `who`'s feed of `values` and re-aggregates their assets; returns how many
	/// feeders there are (what aggregation's cost grows with).
	pub(crate) fn do_feed(
		who: T::AccountId,
		values: FeedValuesOf<T>,
	) -> Result<u32, DispatchError> {
		Self::check_feed(&who, &values)?;
		let block = frame_system::Pallet::<T>::block_number();
		let now = Self::now();
		FedIn::<T>::insert(&who, block);
		for (asset, price) in values {
			let mut record = Assets::<T>::get(asset).ok_or(Error::<T>::UnknownAsset)?;
			let value =
				FeederValue { feeder: who.clone(), value: RawValue { price, at: now, block } };
			match Self::find_value(&record, &who) {
				Ok(at) => record[at] = value,
				// A feeder's first value of the asset. Every value is a current feeder's, one
				// each, so there is room; were there none, nothing of the feed is kept.
				Err(at) => record.try_insert(at, value).map_err(|_| Error::<T>::TooManyFeeders)?,
			}
			Assets::<T>::insert(asset, &record);
			Self::deposit_event(Event::PriceFed { feeder: who.clone(), asset, price });
			Self::aggregate_values(asset, &record, true);
		}
		Ok(Feeders::<T>::decode_len().unwrap_or(0) as u32)
	}

	/// Where `who`'s value is in `values` (`Ok`), or where it would go (`Err`).
	fn find_value(values: &ValuesOf<T>, who: &T::AccountId) -> Result<usize, usize> {
		values.binary_search_by(|v| v.feeder.cmp(who))
	}

	/// The values among `values` newer than `max_age`.
	fn fresh_values(
		values: &[FeederValueOf<T>],
		now: Moment,
		params: &OracleParams,
	) -> Vec<FeederValueOf<T>> {
		values
			.iter()
			.filter(|v| now.saturating_sub(v.value.at) <= params.max_age)
			.cloned()
			.collect()
	}

	/// Recomputes the aggregate of `asset` from its stored values: see [`Self::aggregate_values`].
	pub(crate) fn aggregate(asset: AssetId, report_quorum: bool) {
		Self::aggregate_values(asset, &Assets::<T>::get(asset).unwrap_or_default(), report_quorum);
	}

	/// Recomputes the aggregate of `asset` from the fresh ones of its `values` (those in
	/// storage) and applies the circuit breaker. `report_quorum` emits `QuorumNotMet` when
	/// there are too few values (on feeds; not when a feeder or asset is being removed).
	fn aggregate_values(asset: AssetId, values: &ValuesOf<T>, report_quorum: bool) {
		let params = Params::<T>::get();
		let now = Self::now();
		let block = frame_system::Pallet::<T>::block_number();
		let previous = Aggregates::<T>::get(asset);
		let frozen_since = previous.and_then(|a| a.frozen_since);
		let fresh = Self::fresh_values(values, now, &params);

		// While frozen, only a quorum of values submitted after the trip may reset the breaker;
		// the price it resets to is then the ordinary aggregate of all fresh values.
		if let Some(since) = frozen_since {
			let confirming: Vec<_> = fresh
				.iter()
				.filter(|v| v.value.at > since)
				.map(|v| (v.feeder.clone(), v.value.price))
				.collect();
			let confirmed = aggregation::filter_and_aggregate(
				&confirming,
				params.min_feeders,
				params.max_deviation,
			)
			.is_some();
			if !confirmed {
				if report_quorum {
					let fresh = confirming.len() as u32;
					Self::deposit_event(Event::QuorumNotMet { asset, fresh });
				}
				return;
			}
		}
		let all: Vec<_> = fresh.iter().map(|v| (v.feeder.clone(), v.value.price)).collect();
		let Some(filtered) =
			aggregation::filter_and_aggregate(&all, params.min_feeders, params.max_deviation)
		else {
			if report_quorum {
				Self::deposit_event(Event::QuorumNotMet { asset, fresh: all.len() as u32 });
			}
			return;
		};
		if !filtered.excluded.is_empty() {
			let feeders = BoundedVec::truncate_from(filtered.excluded);
			Self::deposit_event(Event::ValuesExcluded { asset, feeders });
		}
		let median = filtered.median;
		let feeders = filtered.kept.len() as u32;
		// The price is as old as its quorum: from here on it is `at` that ages.
		let at = Self::quorum_time(&fresh, &filtered.kept, params.min_feeders).unwrap_or(now);

		let next = match previous {
			None => {
				let first = Aggregate {
					price: median,
					at,
					feeders,
					index: median,
					variance_rate: Default::default(),
					base: None,
					frozen_since: None,
				};
				Self::restart_from(first, block)
			},
			Some(aggregate) => {
				// A confirmed reset (or a governance reset that left no base) restarts from the
				// aggregate's own last state, without the change limit.
				let base = if aggregate.frozen_since.is_some() {
					Self::deposit_event(Event::BreakerReset {
						asset,
						price: Some(median),
						by_governance: false,
					});
					None
				} else {
					Self::base_for(&aggregate, block)
				};
				match base {
					None => {
						let accepted =
							Self::accept_from_own_state(aggregate, median, feeders, at, &params);
						Self::restart_from(accepted, block)
					},
					Some(base) => {
						if aggregation::exceeds(median, base.price, params.max_change_per_block) {
							let tripped = Aggregate {
								base: Some(base),
								frozen_since: Some(now),
								..aggregate
							};
							Aggregates::<T>::insert(asset, tripped);
							Self::deposit_event(Event::BreakerTripped {
								asset,
								reference: base.price,
								rejected: median,
							});
							return;
						}
						Self::accept_from_base(base, median, feeders, at, &params)
					},
				}
			},
		};
		Aggregates::<T>::insert(asset, next);
		Self::deposit_event(Event::PriceAggregated {
			asset,
			price: next.price,
			feeders,
			index: next.index,
		});
	}

	/// When the values of `kept` (among `fresh`) last made a quorum of `min_feeders`: the
	/// time of the `min_feeders`-th newest of them. Once that value is older than `max_age`,
	/// fewer than a quorum of them are fresh, and so is the price. `None` with no value kept.
	fn quorum_time(
		fresh: &[FeederValueOf<T>],
		kept: &[T::AccountId],
		min_feeders: u32,
	) -> Option<Moment> {
		let mut times: Vec<Moment> =
			fresh.iter().filter(|v| kept.contains(&v.feeder)).map(|v| v.value.at).collect();
		times.sort_unstable_by(|a, b| b.cmp(a));
		let quorum = (min_feeders.max(1) as usize).min(times.len());
		times.get(quorum.checked_sub(1)?).copied()
	}

	/// The base a median in `block` is measured from: the aggregate's state as the block
	/// started. `None` when there is none (after a governance reset without quorum).
	fn base_for(
		aggregate: &AggregateOf<T>,
		block: BlockNumberFor<T>,
	) -> Option<Base<BlockNumberFor<T>>> {
		match aggregate.base {
			None => None,
			Some(base) if base.block == block => Some(base),
			Some(_) => Some(Self::state_of(aggregate, block)),
		}
	}

	/// The aggregate's current state, as the base of `block`.
	fn state_of(aggregate: &AggregateOf<T>, block: BlockNumberFor<T>) -> Base<BlockNumberFor<T>> {
		Base {
			block,
			price: aggregate.price,
			at: aggregate.at,
			index: aggregate.index,
			variance_rate: aggregate.variance_rate,
		}
	}

	/// A price accepted in `base.block`, as of `at`, with index and volatility computed from
	/// the base.
	fn accept_from_base(
		base: Base<BlockNumberFor<T>>,
		price: Price,
		feeders: u32,
		at: Moment,
		params: &OracleParams,
	) -> AggregateOf<T> {
		let variance_rate = aggregation::variance_rate_step(
			base.variance_rate,
			base.price,
			price,
			at.saturating_sub(base.at),
			params.volatility_decay,
		)
		.unwrap_or(base.variance_rate);
		Aggregate {
			price,
			at,
			feeders,
			index: aggregation::ema(base.index, price, params.index_smoothing),
			variance_rate,
			base: Some(base),
			frozen_since: None,
		}
	}

	/// A price accepted after a reset, measured from the aggregate's own last state.
	fn accept_from_own_state(
		aggregate: AggregateOf<T>,
		price: Price,
		feeders: u32,
		at: Moment,
		params: &OracleParams,
	) -> AggregateOf<T> {
		let own = Self::state_of(&aggregate, Default::default());
		Self::accept_from_base(own, price, feeders, at, params)
	}

	/// Makes the accepted state the base of `block`: the reference for the rest of the block.
	fn restart_from(aggregate: AggregateOf<T>, block: BlockNumberFor<T>) -> AggregateOf<T> {
		Aggregate { base: Some(Self::state_of(&aggregate, block)), frozen_since: None, ..aggregate }
	}

	/// Checks every parameter against its bounds.
	pub fn ensure_valid_params(params: &OracleParams) -> DispatchResult {
		let positive = |p: Perbill| !p.is_zero();
		ensure!(params.max_age > 0 && params.max_age <= MAX_AGE_LIMIT, Error::<T>::InvalidParams);
		ensure!(
			params.min_feeders >= 1 && params.min_feeders <= T::MaxFeeders::get(),
			Error::<T>::InvalidParams
		);
		ensure!(
			positive(params.max_deviation) && params.max_deviation <= MAX_DEVIATION_LIMIT,
			Error::<T>::InvalidParams
		);
		ensure!(positive(params.max_change_per_block), Error::<T>::InvalidParams);
		ensure!(positive(params.index_smoothing), Error::<T>::InvalidParams);
		ensure!(params.volatility_decay < Perbill::one(), Error::<T>::InvalidParams);
		Ok(())
	}

	/// Milliseconds since the Unix epoch; saturates, a clock beyond `u64` milliseconds is
	/// not a case this chain will meet.
	pub(crate) fn now() -> Moment {
		u64::try_from(T::Time::now().as_millis()).unwrap_or(u64::MAX)
	}

	/// Checks the pallet's invariants (listed in the README).
	#[cfg(any(feature = "try-runtime", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		let feeders = Feeders::<T>::get();
		ensure!(feeders.windows(2).all(|w| w[0] < w[1]), "feeder set not sorted or has duplicates");
		ensure!(Assets::<T>::count() <= T::MaxAssets::get(), "more assets than MaxAssets");
		ensure!(Self::ensure_valid_params(&Params::<T>::get()).is_ok(), "parameters out of bounds");
		for feeder in FedIn::<T>::iter_keys() {
			ensure!(feeders.binary_search(&feeder).is_ok(), "a non-feeder's feed recorded");
		}
		for (_, values) in Assets::<T>::iter() {
			ensure!(
				values.windows(2).all(|w| w[0].feeder < w[1].feeder),
				"raw values not sorted by feeder or two from one feeder"
			);
			for FeederValue { feeder, value } in values {
				ensure!(feeders.binary_search(&feeder).is_ok(), "raw value from a non-feeder");
				ensure!(
					!value.price.is_zero() && value.price <= T::MaxPrice::get(),
					"raw value out of bounds"
				);
			}
		}
		let params = Params::<T>::get();
		let now = Self::now();
		for (asset, aggregate) in Aggregates::<T>::iter() {
			ensure!(Assets::<T>::contains_key(asset), "aggregate for an unlisted asset");
			ensure!(!aggregate.price.is_zero(), "zero aggregate");
			// The count is of the feeders at aggregation; some may have been removed since.
			ensure!(aggregate.feeders <= T::MaxFeeders::get(), "more feeders than may exist");
			// A price is never dated after the values it rests on, nor in the future.
			ensure!(aggregate.at <= now, "aggregate dated in the future");
			// An aggregate accepted in this block is the median of the fresh, non-outlying
			// values; later its values age, and a frozen one keeps the price from before the
			// trip.
			let block = frame_system::Pallet::<T>::block_number();
			let accepted_now = aggregate.base.is_some_and(|base| base.block == block);
			if accepted_now && aggregate.frozen_since.is_none() {
				let values = Assets::<T>::get(asset).unwrap_or_default();
				let fresh: Vec<_> = Self::fresh_values(&values, now, &params)
					.into_iter()
					.map(|v| (v.feeder, v.value.price))
					.collect();
				if let Some(f) = aggregation::filter_and_aggregate(
					&fresh,
					params.min_feeders,
					params.max_deviation,
				) {
					ensure!(
						f.median == aggregate.price,
						"aggregate is not the median of fresh values"
					);
				}
			}
		}
		Ok(())
	}
}
