//! Validator-run price feeds: a node whose keystore holds a feeder's `orcl` key fetches prices
//! over HTTP from the sources configured in its offchain local storage and submits a signed
//! `feed` of what its sources agree on ([`agree`]). One bad source cannot move the feed: an
//! asset needs at least [`MIN_SOURCES`] answers, a strict majority of them within the oracle's
//! `max_deviation` of their median, and the value fed is the median of that majority; a value
//! further from the current aggregate than the circuit breaker allows is fed only if the
//! agreeing sources are a majority of all the asset's configured sources. Why an asset is not
//! fed is logged. Plain `http://` is accepted only to the node's own host (a local relay).
//!
//! Work per run is bounded: at most [`MAX_SOURCES`] requests, all sent at once and given
//! [`HTTP_TIMEOUT_MS`] together, replies of at most [`MAX_BODY_BYTES`]. A source that fails, is
//! slow, or answers something that is not a price is skipped with a log line. Nothing here
//! panics; every failure ends the run with a logged [`OffchainError`].

use crate::{aggregation, pallet::*};
use alloc::{
	string::{String, ToString},
	vec::Vec,
};
use frame_support::traits::Get;
use frame_system::{
	offchain::{SendSignedTransaction, Signer},
	pallet_prelude::BlockNumberFor,
};
use perp_primitives::{AssetId, Price};
use serde_json::Value;
use sp_runtime::{
	offchain::{
		http,
		storage::StorageValueRef,
		storage_lock::{BlockAndTime, StorageLock},
		Duration, HttpError, StorageKind, Timestamp,
	},
	traits::Saturating,
	KeyTypeId,
};

/// The key type of feeder keys in a node's keystore.
pub const KEY_TYPE: KeyTypeId = KeyTypeId(*b"orcl");
/// The offchain local storage key (kind `PERSISTENT`) holding the source list, as JSON.
pub const SOURCES_KEY: &[u8] = b"perp-oracle::sources";
/// Where a node remembers the block of its last feed.
const LAST_FEED_KEY: &[u8] = b"perp-oracle::last-feed";
/// Held while a run fetches and submits, so that runs for consecutive blocks never overlap.
pub(crate) const LOCK_KEY: &[u8] = b"perp-oracle::lock";
/// The fewest sources that must answer for an asset to be fed.
pub const MIN_SOURCES: u32 = 3;
/// The most sources a node fetches per run.
pub const MAX_SOURCES: usize = 32;
/// The largest source list accepted, in bytes.
pub const MAX_CONFIG_BYTES: usize = 16 * 1024;
/// The largest reply read from a source; a longer one is skipped.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// The longest URL or JSON path accepted.
pub const MAX_FIELD_BYTES: usize = 512;
/// The time all requests of a run get together, reading included.
pub const HTTP_TIMEOUT_MS: u64 = 2_000;
/// How long the run lock lasts at most, should a run die holding it.
const LOCK_TIMEOUT_MS: u64 = 4 * HTTP_TIMEOUT_MS;
/// Blocks after which the run lock expires at the latest.
const LOCK_BLOCKS: u32 = 3;

/// Feeder keys: sr25519, key type `orcl`.
pub mod crypto {
	use super::KEY_TYPE;
	use sp_runtime::{
		app_crypto::{app_crypto, sr25519},
		MultiSignature, MultiSigner,
	};
	app_crypto!(sr25519, KEY_TYPE);

	/// Signs feeds with an `orcl` key, for a runtime whose accounts are `MultiSigner`s.
	pub struct FeederId;

	impl frame_system::offchain::AppCrypto<MultiSigner, MultiSignature> for FeederId {
		type RuntimeAppPublic = Public;
		type GenericPublic = sp_runtime::app_crypto::sr25519::Public;
		type GenericSignature = sp_runtime::app_crypto::sr25519::Signature;
	}
}

/// One price source: the URL to fetch for an asset and where its price sits in the JSON reply.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Source {
	/// The asset priced.
	pub asset: AssetId,
	/// An `http://` or `https://` URL answering a JSON document.
	pub url: String,
	/// Dot-separated object keys and array indices, e.g. `data.0.price`; empty for a bare number.
	pub path: String,
}

/// Why a run submitted nothing.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum OffchainError {
	/// No source list in offchain local storage: this node does not feed.
	NoSources,
	/// The keystore holds no `orcl` key of a current feeder.
	NoFeederKey,
	/// The source list is not valid.
	BadSources(ConfigError),
	/// This node fed less than `OffchainFeedInterval` blocks ago.
	TooSoon,
	/// Another run holds the lock.
	Locked,
	/// No source of a listed asset answered a price.
	NoPrices,
	/// The feed could not be signed or entered into the pool.
	SubmitFailed,
}

/// What is wrong with a source list.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum ConfigError {
	/// Longer than [`MAX_CONFIG_BYTES`].
	TooLarge,
	/// Not JSON, or not a list of `{"asset": n, "url": "...", "path": "..."}` objects.
	Malformed,
	/// More than [`MAX_SOURCES`] sources.
	TooManySources,
	/// A URL that is not `https://` (or `http://` to the node's own host), or a URL or path
	/// longer than [`MAX_FIELD_BYTES`].
	BadField,
}

/// Why one source's reply gave no price.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum SourceError {
	/// The request could not be sent.
	Send,
	/// No complete reply within the deadline.
	Timeout,
	/// The connection failed.
	Io,
	/// An HTTP status other than 200.
	Status(u16),
	/// Longer than [`MAX_BODY_BYTES`].
	TooLarge,
	/// Not JSON.
	NotJson,
	/// Nothing at the configured path.
	PathNotFound,
	/// What the path points at is not a positive decimal number (or a string holding one).
	NotAPrice,
}

/// Parses a source list: a JSON array of `{"asset": 3, "url": "http://...", "path": "a.0.b"}`.
pub fn parse_sources(bytes: &[u8]) -> Result<Vec<Source>, ConfigError> {
	if bytes.len() > MAX_CONFIG_BYTES {
		return Err(ConfigError::TooLarge);
	}
	let value: Value = serde_json::from_slice(bytes).map_err(|_| ConfigError::Malformed)?;
	let entries = value.as_array().ok_or(ConfigError::Malformed)?;
	if entries.len() > MAX_SOURCES {
		return Err(ConfigError::TooManySources);
	}
	entries
		.iter()
		.map(|entry| {
			let asset = entry
				.get("asset")
				.and_then(Value::as_u64)
				.and_then(|a| AssetId::try_from(a).ok())
				.ok_or(ConfigError::Malformed)?;
			let url = entry.get("url").and_then(Value::as_str).ok_or(ConfigError::Malformed)?;
			let path = match entry.get("path") {
				None => "",
				Some(path) => path.as_str().ok_or(ConfigError::Malformed)?,
			};
			if !allowed_url(url) || url.len() > MAX_FIELD_BYTES || path.len() > MAX_FIELD_BYTES {
				return Err(ConfigError::BadField);
			}
			Ok(Source { asset, url: url.to_string(), path: path.to_string() })
		})
		.collect()
}

/// Whether a source may be fetched at `url`: `https://`, or `http://` to the loopback host
/// only (anything else in clear text could be rewritten on its way).
fn allowed_url(url: &str) -> bool {
	if url.starts_with("https://") {
		return true;
	}
	let Some(rest) = url.strip_prefix("http://") else { return false };
	let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
	let host = match host.strip_prefix('[') {
		// `[::1]:port`
		Some(v6) => v6.split(']').next().unwrap_or_default(),
		None => host.split(':').next().unwrap_or_default(),
	};
	matches!(host, "127.0.0.1" | "localhost" | "::1")
}

/// The price at `path` in a source's reply.
pub fn price_at(body: &[u8], path: &str) -> Result<Price, SourceError> {
	let document: Value = serde_json::from_slice(body).map_err(|_| SourceError::NotJson)?;
	let mut at = &document;
	for segment in path.split('.').filter(|s| !s.is_empty()) {
		at = match at {
			Value::Object(map) => map.get(segment),
			Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
			_ => None,
		}
		.ok_or(SourceError::PathNotFound)?;
	}
	let text = match at {
		Value::Number(n) => n.to_string(),
		Value::String(s) => s.clone(),
		_ => return Err(SourceError::NotAPrice),
	};
	parse_decimal(text.trim()).ok_or(SourceError::NotAPrice)
}

/// Parses a positive decimal, `123`, `123.45` or `1.2345e3`, into a price, exactly up to the
/// eighteen decimals of the fixed-point type (further digits are cut off: rounding down). `None`
/// for zero, a negative number, anything that is not a decimal, or a value beyond the range.
pub fn parse_decimal(text: &str) -> Option<Price> {
	const DECIMALS: i64 = 18;
	let (mantissa, exponent) = match text.find(['e', 'E']) {
		Some(i) => (&text[..i], i64::from(text[i + 1..].parse::<i32>().ok()?)),
		None => (text, 0),
	};
	let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
	let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
	if whole.is_empty() || !digits(whole) || !digits(fraction) {
		return None;
	}
	// Fraction digits past the result's last decimal place cannot change it.
	let keep = (DECIMALS + exponent).clamp(0, fraction.len() as i64);
	let fraction = fraction.get(..keep as usize)?;
	let mut units: u128 = 0;
	for b in whole.trim_start_matches('0').bytes().chain(fraction.bytes()) {
		units = units.checked_mul(10)?.checked_add(u128::from(b - b'0'))?;
	}
	// The fixed-point inner value is units × 10^(DECIMALS + exponent − kept fraction digits).
	let shift = DECIMALS + exponent - keep;
	let inner = if shift >= 0 {
		units.checked_mul(10u128.checked_pow(u32::try_from(shift).ok()?)?)?
	} else {
		match 10u128.checked_pow(u32::try_from(-shift).ok()?) {
			Some(scale) => units / scale,
			None => 0,
		}
	};
	(inner > 0).then(|| Price::from_inner(inner))
}

/// What a node's sources say of one asset.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Agreement {
	/// The value to feed: the median of the sources that agree.
	Agreed(Price),
	/// Fewer than [`MIN_SOURCES`] sources answered.
	TooFewSources { answered: u32 },
	/// No strict majority of the answers lies within `max_deviation` of their median.
	NoMajority { answered: u32, agreeing: u32 },
	/// The agreed value is further from the current aggregate `from` than the breaker allows
	/// in a block, and the sources agreeing on it are no majority of the `configured` ones.
	Unconfirmed { from: Price, to: Price, agreeing: u32, configured: u32 },
}

/// What to feed for an asset whose `configured` sources gave `answers`, against its current
/// aggregate `current`, under the oracle's `params` (see the module's documentation).
pub fn agree(
	answers: &[Price],
	configured: u32,
	current: Option<Price>,
	params: &crate::OracleParams,
) -> Agreement {
	let answered = answers.len() as u32;
	if answered < MIN_SOURCES {
		return Agreement::TooFewSources { answered };
	}
	let keyed: Vec<(usize, Price)> = answers.iter().copied().enumerate().collect();
	let majority = answered / 2 + 1;
	let Some(agreed) = aggregation::filter_and_aggregate(&keyed, majority, params.max_deviation)
	else {
		let first = aggregation::median(answers.to_vec());
		let agreeing = first.map_or(0, |m| {
			answers
				.iter()
				.filter(|p| !aggregation::exceeds(**p, m, params.max_deviation))
				.count()
		}) as u32;
		return Agreement::NoMajority { answered, agreeing };
	};
	let agreeing = agreed.kept.len() as u32;
	if let Some(from) = current {
		let jump = aggregation::exceeds(agreed.median, from, params.max_change_per_block);
		if jump && agreeing.saturating_mul(2) <= configured {
			return Agreement::Unconfirmed { from, to: agreed.median, agreeing, configured };
		}
	}
	Agreement::Agreed(agreed.median)
}

impl<T: Config> Pallet<T> {
	/// One offchain-worker run at block `now`: fetch, aggregate, sign and submit. Returns the
	/// number of assets fed.
	pub(crate) fn offchain_feed(now: BlockNumberFor<T>) -> Result<u32, OffchainError> {
		let raw = sp_io::offchain::local_storage_get(StorageKind::PERSISTENT, SOURCES_KEY)
			.ok_or(OffchainError::NoSources)?;
		let feeders = Feeders::<T>::get();
		let keys: Vec<T::Public> = Signer::<T, T::AuthorityId>::keystore_accounts()
			.filter(|account| feeders.binary_search(&account.id).is_ok())
			.map(|account| account.public)
			.collect();
		if keys.is_empty() {
			return Err(OffchainError::NoFeederKey);
		}
		let sources = parse_sources(&raw).map_err(OffchainError::BadSources)?;

		let mut lock =
			StorageLock::<BlockAndTime<frame_system::Pallet<T>>>::with_block_and_time_deadline(
				LOCK_KEY,
				LOCK_BLOCKS,
				Duration::from_millis(LOCK_TIMEOUT_MS),
			);
		let _guard = lock.try_lock().map_err(|_| OffchainError::Locked)?;
		Self::ensure_feed_due(now)?;

		let mut prices = Vec::new();
		for (source, result) in sources.iter().zip(Self::fetch_all(&sources)) {
			match result {
				Ok(price) if price <= T::MaxPrice::get() => prices.push((source.asset, price)),
				Ok(price) => log::warn!(
					target: LOG_TARGET,
					"source {} for asset {} skipped: {price:?} is above MaxPrice",
					source.url,
					source.asset,
				),
				Err(e) => log::warn!(
					target: LOG_TARGET,
					"source {} for asset {} skipped: {e:?}",
					source.url,
					source.asset,
				),
			}
		}
		let mut medians = Self::agreed_values(&sources, &prices);
		let max_values = T::MaxValuesPerFeed::get() as usize;
		if medians.len() > max_values {
			log::warn!(
				target: LOG_TARGET,
				"{} assets priced, feeding the first {max_values} (MaxValuesPerFeed)",
				medians.len(),
			);
			medians.truncate(max_values);
		}
		let fed = medians.len() as u32;
		let values = FeedValuesOf::<T>::try_from(medians).map_err(|_| OffchainError::NoPrices)?;
		if values.is_empty() {
			return Err(OffchainError::NoPrices);
		}

		let results = Signer::<T, T::AuthorityId>::all_accounts()
			.with_filter(keys)
			.send_signed_transaction(|_| Call::feed { values: values.clone() });
		let mut submitted = 0;
		for (account, result) in results {
			match result {
				Ok(()) => submitted += 1,
				Err(()) => log::warn!(
					target: LOG_TARGET,
					"feed of {:?} could not be submitted",
					account.id
				),
			}
		}
		if submitted == 0 {
			return Err(OffchainError::SubmitFailed);
		}
		Ok(fed)
	}

	/// For each listed asset of `sources`, in id order, the value its `answers` agree on
	/// ([`agree`]); an asset they do not agree on is left out, with a log line saying why. (A
	/// feed naming an unlisted asset would be rejected whole.)
	fn agreed_values(sources: &[Source], answers: &[(AssetId, Price)]) -> Vec<(AssetId, Price)> {
		let params = Params::<T>::get();
		let mut assets: Vec<AssetId> = sources.iter().map(|s| s.asset).collect();
		assets.sort_unstable();
		assets.dedup();
		let mut values = Vec::new();
		for asset in assets {
			if !Assets::<T>::contains_key(asset) {
				log::warn!(target: LOG_TARGET, "asset {asset} is not listed; its sources are ignored");
				continue;
			}
			let configured = sources.iter().filter(|s| s.asset == asset).count() as u32;
			let prices: Vec<Price> =
				answers.iter().filter(|(a, _)| *a == asset).map(|(_, p)| *p).collect();
			let current = Aggregates::<T>::get(asset).map(|a| a.price);
			match agree(&prices, configured, current, &params) {
				Agreement::Agreed(price) => values.push((asset, price)),
				refused => log::warn!(
					target: LOG_TARGET,
					"asset {asset} not fed: {refused:?} ({configured} sources configured)"
				),
			}
		}
		values
	}

	/// Records `now` as this node's feed block unless it fed less than `OffchainFeedInterval`
	/// blocks ago. A remembered block above `now` (a purged or forked chain) is ignored.
	fn ensure_feed_due(now: BlockNumberFor<T>) -> Result<(), OffchainError> {
		let interval = T::OffchainFeedInterval::get();
		StorageValueRef::persistent(LAST_FEED_KEY)
			.mutate(|last: Result<Option<BlockNumberFor<T>>, _>| match last {
				Ok(Some(last)) if last <= now && now < last.saturating_add(interval) => {
					Err(OffchainError::TooSoon)
				},
				_ => Ok(now),
			})
			.map(|_| ())
			.map_err(|e| match e {
				sp_runtime::offchain::storage::MutateStorageError::ValueFunctionFailed(e) => e,
				sp_runtime::offchain::storage::MutateStorageError::ConcurrentModification(_) => {
					OffchainError::Locked
				},
			})
	}

	/// Fetches every source at once, under one deadline; one result per source, in order.
	fn fetch_all(sources: &[Source]) -> Vec<Result<Price, SourceError>> {
		let deadline = sp_io::offchain::timestamp().add(Duration::from_millis(HTTP_TIMEOUT_MS));
		let mut results = Vec::with_capacity(sources.len());
		let mut pending = Vec::new();
		let mut waiting = Vec::new();
		for (i, source) in sources.iter().enumerate() {
			match http::Request::get(source.url.as_str()).deadline(deadline).send() {
				Ok(request) => {
					pending.push(request);
					waiting.push(i);
					results.push(Err(SourceError::Timeout));
				},
				Err(_) => results.push(Err(SourceError::Send)),
			}
		}
		let replies = http::PendingRequest::try_wait_all(pending, deadline);
		for (i, reply) in waiting.into_iter().zip(replies) {
			if let (Some(slot), Some(source)) = (results.get_mut(i), sources.get(i)) {
				*slot = Self::read_reply(reply, deadline, &source.path);
			}
		}
		results
	}

	/// The price in one source's reply.
	fn read_reply(
		reply: Result<http::HttpResult, http::PendingRequest>,
		deadline: Timestamp,
		path: &str,
	) -> Result<Price, SourceError> {
		let response = match reply {
			Err(_) | Ok(Err(http::Error::DeadlineReached)) => return Err(SourceError::Timeout),
			Ok(Err(_)) => return Err(SourceError::Io),
			Ok(Ok(response)) => response,
		};
		if response.code != 200 {
			return Err(SourceError::Status(response.code));
		}
		let mut body = response.body();
		body.deadline(deadline);
		let bytes: Vec<u8> = body.by_ref().take(MAX_BODY_BYTES.saturating_add(1)).collect();
		match body.error() {
			Some(HttpError::DeadlineReached) => return Err(SourceError::Timeout),
			Some(_) => return Err(SourceError::Io),
			None => {},
		}
		if bytes.len() > MAX_BODY_BYTES {
			return Err(SourceError::TooLarge);
		}
		price_at(&bytes, path)
	}
}

/// The log target of the offchain worker.
pub const LOG_TARGET: &str = "runtime::oracle::ocw";
