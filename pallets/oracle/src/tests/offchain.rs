//! Tests of the offchain worker: sources, HTTP replies, the signed feed it submits.

use super::p;
use crate::{
	mock::*,
	offchain::{
		self, parse_decimal, parse_sources, price_at, ConfigError, OffchainError, SourceError,
	},
	pallet::*,
	Event,
};
use codec::{Decode, Encode};
use frame_support::{assert_ok, traits::UnfilteredDispatchable};
use perp_primitives::{AssetId, Price, PriceProvider, PriceStatus};
use sp_core::offchain::{
	testing::{OffchainState, PendingRequest, PoolState, TestOffchainExt, TestTransactionPoolExt},
	OffchainDbExt, OffchainWorkerExt, StorageKind, TransactionPoolExt,
};
use sp_runtime::{
	generic::Preamble,
	offchain::storage_lock::{BlockAndTime, StorageLock},
	testing::UintAuthorityId,
	traits::Verify,
};
use std::sync::Arc;

type Shared<S> = Arc<parking_lot::RwLock<S>>;

/// A test externality with offchain and pool extensions, `keys` in the keystore and `sources`
/// (JSON) in offchain local storage.
fn offchain_ext(
	keys: &[u64],
	sources: Option<&str>,
) -> (sp_io::TestExternalities, Shared<OffchainState>, Shared<PoolState>) {
	let mut ext = new_test_ext();
	let (offchain, state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	ext.register_extension(OffchainDbExt::new(offchain.clone()));
	ext.register_extension(OffchainWorkerExt::new(offchain));
	ext.register_extension(TransactionPoolExt::new(pool));
	UintAuthorityId::set_all_keys(keys.iter().copied());
	if let Some(sources) = sources {
		ext.execute_with(|| {
			sp_io::offchain::local_storage_set(
				StorageKind::PERSISTENT,
				offchain::SOURCES_KEY,
				sources.as_bytes(),
			)
		});
	}
	(ext, state, pool_state)
}

fn source(asset: AssetId, url: &str, path: &str) -> String {
	format!(r#"{{"asset": {asset}, "url": "{url}", "path": "{path}"}}"#)
}

fn sources(list: &[String]) -> String {
	format!("[{}]", list.join(","))
}

/// Expects a GET of `url` answered with `body`.
fn expect_get(state: &Shared<OffchainState>, url: &str, body: &str) {
	state.write().expect_request(PendingRequest {
		method: "GET".into(),
		uri: url.into(),
		response: Some(body.as_bytes().to_vec()),
		sent: true,
		..Default::default()
	});
}

/// A submitted feed: its sender, its values, and the call to dispatch.
type SubmittedFeed = (u64, Vec<(AssetId, Price)>, RuntimeCall);

/// Pops every submitted extrinsic, checks it is a `feed` signed by a key of its sender over
/// `(call, nonce)`, and returns the senders with their feeds. Call it after every run: the
/// signer bumps the sender's nonce after each submission, so the nonce signed is the current
/// one less one.
fn submitted_feeds(pool: &Shared<PoolState>) -> Vec<SubmittedFeed> {
	let mut feeds = Vec::new();
	for raw in pool.write().transactions.drain(..) {
		let tx = Extrinsic::decode(&mut &raw[..]).expect("the pool holds our extrinsics");
		let Preamble::Signed(who, signature, ()) = tx.preamble else { panic!("unsigned feed") };
		let nonce = frame_system::Pallet::<Test>::account_nonce(who) - 1;
		assert!(signature.verify(&(&tx.function, nonce).encode()[..], &who), "bad signature");
		let RuntimeCall::Oracle(Call::feed { values }) = tx.function.clone() else {
			panic!("not a feed: {:?}", tx.function)
		};
		feeds.push((who, values.into_inner(), tx.function));
	}
	feeds
}

/// Three sources of `asset` at `https://{name}-1.test` to `-3`, read at `p`.
fn three(asset: AssetId, name: &str) -> Vec<String> {
	(1..=3)
		.map(|i| source(asset, &format!("https://{name}-{i}.test"), "p"))
		.collect()
}

/// Expects the GETs of [`three`]'s sources, answering `prices`.
fn expect_three(state: &Shared<OffchainState>, name: &str, prices: [&str; 3]) {
	for (i, price) in (1..=3).zip(prices) {
		expect_get(state, &format!("https://{name}-{i}.test"), &format!(r#"{{"p": {price}}}"#));
	}
}

fn price(units: u128, decimals: u32) -> Price {
	Price::from_inner(units * 10u128.pow(18 - decimals))
}

#[test]
fn the_worker_feeds_the_median_of_its_sources_and_the_chain_accepts_it() {
	let list = sources(&[
		source(BTC, "https://a.test/btc", "price"),
		source(ETH, "https://b.test/eth", "data.0.last"),
		source(BTC, "https://c.test/ticker?s=BTC", "bitcoin.usd"),
		source(BTC, "http://127.0.0.1:8080/btc", ""),
		source(ETH, "https://e.test/eth", "p"),
		source(ETH, "https://f.test/eth", "p"),
	]);
	let (mut ext, state, pool) = offchain_ext(&[ALICE], Some(&list));
	expect_get(&state, "https://a.test/btc", r#"{"symbol": "BTC", "price": "100.25"}"#);
	expect_get(&state, "https://b.test/eth", r#"{"data": [{"last": 7.5}, {"last": 1}]}"#);
	expect_get(&state, "https://c.test/ticker?s=BTC", r#"{"bitcoin": {"usd": 101}}"#);
	expect_get(&state, "http://127.0.0.1:8080/btc", "99.5");
	expect_get(&state, "https://e.test/eth", r#"{"p": 7.4}"#);
	expect_get(&state, "https://f.test/eth", r#"{"p": "7.6"}"#);
	ext.execute_with(|| {
		assert_eq!(Oracle::offchain_feed(1), Ok(2));
		let feeds = submitted_feeds(&pool);
		assert_eq!(feeds.len(), 1);
		let (who, values, call) = feeds.into_iter().next().unwrap();
		assert_eq!(who, ALICE);
		assert_eq!(values, vec![(BTC, price(10025, 2)), (ETH, price(75, 1))]);

		// The chain takes it like any feed.
		assert_ok!(call.dispatch_bypass_filter(RuntimeOrigin::signed(ALICE)));
		System::assert_has_event(
			Event::PriceFed { feeder: ALICE, asset: BTC, price: price(10025, 2) }.into(),
		);
		assert_eq!(super::raw_value(ETH, ALICE), Some(price(75, 1)));
		Oracle::do_try_state().unwrap();
	});
}

#[test]
fn every_local_feeder_key_signs_a_feed_and_other_keys_none() {
	let list = sources(&three(BTC, "btc"));
	let (mut ext, state, pool) = offchain_ext(&[ALICE, EVE, BOB], Some(&list));
	expect_three(&state, "btc", ["100", "100", "100"]);
	ext.execute_with(|| {
		assert_eq!(Oracle::offchain_feed(1), Ok(1));
		let feeds = submitted_feeds(&pool);
		let mut senders: Vec<u64> = feeds.iter().map(|(who, ..)| *who).collect();
		senders.sort();
		assert_eq!(senders, vec![ALICE, BOB]);

		// Two feeders make a quorum: the price is fresh.
		for (who, _, call) in feeds {
			assert_ok!(call.dispatch_bypass_filter(RuntimeOrigin::signed(who)));
		}
		assert_eq!(Oracle::price(BTC).status, PriceStatus::Fresh);
		assert_eq!(Oracle::price(BTC).price, p(100));
		Oracle::do_try_state().unwrap();
	});
}

#[test]
fn failing_sources_are_skipped_and_the_rest_still_feed() {
	let mut list = three(BTC, "good");
	list.extend([
		source(BTC, "https://html.test", "price"),
		source(BTC, "https://path.test", "price"),
		source(BTC, "https://text.test", "price"),
		source(BTC, "https://zero.test", "price"),
		source(BTC, "https://huge.test", "price"),
		source(ETH, "https://negative.test", "price"),
		source(UNLISTED, "https://unlisted.test", "price"),
	]);
	let list = sources(&list);
	let (mut ext, state, pool) = offchain_ext(&[ALICE], Some(&list));
	expect_three(&state, "good", ["100", "100", "100"]);
	expect_get(&state, "https://html.test", "<html>502 Bad Gateway</html>");
	expect_get(&state, "https://path.test", r#"{"data": {"price": 1}}"#);
	expect_get(&state, "https://text.test", r#"{"price": "n/a"}"#);
	expect_get(&state, "https://zero.test", r#"{"price": 0}"#);
	expect_get(&state, "https://huge.test", r#"{"price": 1e12}"#);
	expect_get(&state, "https://negative.test", r#"{"price": -3}"#);
	expect_get(&state, "https://unlisted.test", r#"{"price": 3}"#);
	ext.execute_with(|| {
		assert_eq!(Oracle::offchain_feed(1), Ok(1));
		let feeds = submitted_feeds(&pool);
		assert_eq!(feeds.len(), 1);
		assert_eq!(feeds[0].1, vec![(BTC, p(100))]);
	});
}

#[test]
fn one_bad_source_cannot_move_the_feed() {
	// Two sources, one of them lying low: too few to tell which (the old worker fed the lower).
	let two = sources(&three(BTC, "btc")[..2]);
	let (mut ext, state, pool) = offchain_ext(&[ALICE], Some(&two));
	expect_get(&state, "https://btc-1.test", r#"{"p": 100}"#);
	expect_get(&state, "https://btc-2.test", r#"{"p": 50}"#);
	ext.execute_with(|| assert_eq!(Oracle::offchain_feed(1), Err(OffchainError::NoPrices)));
	assert!(pool.read().transactions.is_empty());

	let list = sources(&three(BTC, "btc"));
	// Three: the liar is dropped, the feed is the median of the two that agree.
	let (mut ext, state, pool) = offchain_ext(&[ALICE], Some(&list));
	expect_three(&state, "btc", ["100", "50", "101"]);
	ext.execute_with(|| {
		assert_eq!(Oracle::offchain_feed(1), Ok(1));
		assert_eq!(submitted_feeds(&pool)[0].1, vec![(BTC, p(100))]);
	});
	// Three that all disagree: no majority, no feed.
	let (mut ext, state, pool) = offchain_ext(&[ALICE], Some(&list));
	expect_three(&state, "btc", ["100", "50", "150"]);
	ext.execute_with(|| assert_eq!(Oracle::offchain_feed(1), Err(OffchainError::NoPrices)));
	assert!(pool.read().transactions.is_empty());
}

#[test]
fn a_jump_past_the_breaker_is_fed_only_on_a_majority_of_all_sources() {
	// Seven BTC sources; BTC is at 100 on chain.
	let list: Vec<String> =
		(1..=7).map(|i| source(BTC, &format!("https://btc-{i}.test"), "p")).collect();
	let list = sources(&list);
	let run = |answers: &[&str]| {
		let (mut ext, state, pool) = offchain_ext(&[ALICE], Some(&list));
		for i in 1..=7 {
			let body = answers.get(i - 1).map_or("{}".to_string(), |p| format!(r#"{{"p": {p}}}"#));
			expect_get(&state, &format!("https://btc-{i}.test"), &body);
		}
		ext.execute_with(|| {
			for feeder in [BOB, CHARLIE] {
				assert_ok!(Oracle::feed(
					RuntimeOrigin::signed(feeder),
					vec![(BTC, p(100))].try_into().unwrap()
				));
			}
			let fed = Oracle::offchain_feed(1);
			(fed, submitted_feeds(&pool).into_iter().map(|(_, values, _)| values).collect())
		})
	};
	// +50% (past the 20% breaker) from three of seven: not fed.
	let (fed, feeds): (_, Vec<_>) = run(&["150", "150", "150"]);
	assert_eq!((fed, feeds.len()), (Err(OffchainError::NoPrices), 0));
	// From four of seven: a majority confirms it.
	let (fed, feeds) = run(&["150", "150", "150", "150"]);
	assert_eq!((fed, feeds), (Ok(1), vec![vec![(BTC, p(150))]]));
	// +3% from three of seven: within the breaker, fed.
	let (fed, feeds) = run(&["103", "103", "103"]);
	assert_eq!((fed, feeds), (Ok(1), vec![vec![(BTC, p(103))]]));
}

#[test]
fn what_sources_agree_on() {
	use offchain::{agree, Agreement};
	let params = DefaultParams::get();
	let ps = |v: &[u32]| v.iter().map(|x| p(*x)).collect::<Vec<_>>();
	assert_eq!(agree(&ps(&[100, 100]), 2, None, &params), Agreement::TooFewSources { answered: 2 });
	assert_eq!(agree(&ps(&[100, 101, 102]), 3, None, &params), Agreement::Agreed(p(101)));
	assert_eq!(
		agree(&ps(&[100, 102, 200, 300]), 4, None, &params),
		Agreement::NoMajority { answered: 4, agreeing: 2 }
	);
	assert_eq!(agree(&ps(&[100, 102, 101, 300]), 4, None, &params), Agreement::Agreed(p(101)));
	assert_eq!(
		agree(&ps(&[200, 200, 200]), 7, Some(p(100)), &params),
		Agreement::Unconfirmed { from: p(100), to: p(200), agreeing: 3, configured: 7 }
	);
	assert_eq!(agree(&ps(&[200, 200, 200]), 5, Some(p(100)), &params), Agreement::Agreed(p(200)));
}

#[test]
fn nothing_is_fetched_without_sources_or_a_feeder_key() {
	// No sources configured: no request (an unexpected one would fail the test), no feed.
	let (mut ext, _state, pool) = offchain_ext(&[ALICE], None);
	ext.execute_with(|| {
		assert_eq!(Oracle::offchain_feed(1), Err(OffchainError::NoSources));
	});
	assert!(pool.read().transactions.is_empty());

	let list = sources(&three(BTC, "btc"));
	for keys in [&[][..], &[EVE][..]] {
		let (mut ext, _state, pool) = offchain_ext(keys, Some(&list));
		ext.execute_with(|| {
			assert_eq!(Oracle::offchain_feed(1), Err(OffchainError::NoFeederKey));
		});
		assert!(pool.read().transactions.is_empty());
	}

	let (mut ext, _state, pool) = offchain_ext(&[ALICE], Some("{\"asset\": 1}"));
	ext.execute_with(|| {
		assert_eq!(
			Oracle::offchain_feed(1),
			Err(OffchainError::BadSources(ConfigError::Malformed))
		);
	});
	assert!(pool.read().transactions.is_empty());
}

#[test]
fn no_feed_when_no_source_answers_a_price() {
	let list = sources(&three(BTC, "btc"));
	let (mut ext, state, pool) = offchain_ext(&[ALICE], Some(&list));
	for i in 1..=3 {
		expect_get(&state, &format!("https://btc-{i}.test"), "{}");
	}
	ext.execute_with(|| {
		assert_eq!(Oracle::offchain_feed(1), Err(OffchainError::NoPrices));
	});
	assert!(pool.read().transactions.is_empty());
}

#[test]
fn a_node_feeds_at_most_once_per_interval_and_never_in_parallel() {
	let list = sources(&three(BTC, "btc"));
	let (mut ext, state, pool) = offchain_ext(&[ALICE], Some(&list));
	ext.execute_with(|| {
		expect_three(&state, "btc", ["100", "100", "100"]);
		assert_eq!(Oracle::offchain_feed(1), Ok(1));
		assert_eq!(submitted_feeds(&pool).len(), 1);
		for block in 1..1 + FEED_INTERVAL {
			assert_eq!(Oracle::offchain_feed(block), Err(OffchainError::TooSoon));
		}
		expect_three(&state, "btc", ["101", "101", "101"]);
		assert_eq!(Oracle::offchain_feed(1 + FEED_INTERVAL), Ok(1));
		assert_eq!(submitted_feeds(&pool).len(), 1);

		// A run that finds the lock taken does nothing.
		let mut lock = StorageLock::<BlockAndTime<System>>::with_block_and_time_deadline(
			offchain::LOCK_KEY,
			1,
			sp_runtime::offchain::Duration::from_millis(60_000),
		);
		let _guard = lock.try_lock().expect("nobody holds the lock");
		assert_eq!(Oracle::offchain_feed(1 + 3 * FEED_INTERVAL), Err(OffchainError::Locked));
		assert!(submitted_feeds(&pool).is_empty());
	});
}

#[test]
fn source_lists_are_checked() {
	let good = sources(&[
		source(BTC, "https://a.test", "x.0"),
		source(ETH, "http://127.0.0.1:8000/eth", ""),
		source(ETH, "http://localhost/eth?x=1", ""),
		source(ETH, "http://[::1]:80/eth", ""),
	]);
	assert_eq!(parse_sources(good.as_bytes()).map(|s| s.len()), Ok(4));
	// The path may be left out: the reply is the number itself.
	assert_eq!(
		parse_sources(br#"[{"asset": 1, "url": "https://a.test"}]"#).map(|s| s[0].path.clone()),
		Ok(String::new())
	);
	for bad in [
		"",
		"not json",
		r#"{"asset": 1, "url": "http://a.test"}"#,
		r#"[{"asset": -1, "url": "http://a.test"}]"#,
		r#"[{"asset": 4294967296, "url": "http://a.test"}]"#,
		r#"[{"asset": 1}]"#,
		r#"[{"asset": 1, "url": 7}]"#,
		r#"[{"asset": 1, "url": "http://a.test", "path": 0}]"#,
	] {
		assert_eq!(parse_sources(bad.as_bytes()), Err(ConfigError::Malformed), "{bad}");
	}
	for bad in [
		// Clear text to another host could be rewritten on its way.
		sources(&[source(BTC, "http://a.test", "")]),
		sources(&[source(BTC, "http://127.0.0.1.evil.test/", "")]),
		sources(&[source(BTC, "http://localhost.evil.test:80/", "")]),
		sources(&[source(BTC, "ftp://a.test", "")]),
		sources(&[source(BTC, "file:///etc/passwd", "")]),
		sources(&[source(BTC, &format!("https://{}", "a".repeat(offchain::MAX_FIELD_BYTES)), "")]),
		sources(&[source(BTC, "https://a.test", &"a".repeat(offchain::MAX_FIELD_BYTES + 1))]),
	] {
		assert_eq!(parse_sources(bad.as_bytes()), Err(ConfigError::BadField), "{bad}");
	}
	let many = sources(&vec![source(BTC, "https://a.test", ""); offchain::MAX_SOURCES + 1]);
	assert_eq!(parse_sources(many.as_bytes()), Err(ConfigError::TooManySources));
	let huge = vec![b' '; offchain::MAX_CONFIG_BYTES + 1];
	assert_eq!(parse_sources(&huge), Err(ConfigError::TooLarge));
}

#[test]
fn prices_are_read_at_their_path() {
	assert_eq!(price_at(br#"{"a": {"b": [1, {"c": "2.5"}]}}"#, "a.b.1.c"), Ok(price(25, 1)));
	assert_eq!(price_at(b" 42 ", ""), Ok(p(42)));
	assert_eq!(price_at(br#"[3, 4]"#, "1"), Ok(p(4)));
	assert_eq!(price_at(br#"{"a": 1}"#, "b"), Err(SourceError::PathNotFound));
	assert_eq!(price_at(br#"[3, 4]"#, "2"), Err(SourceError::PathNotFound));
	assert_eq!(price_at(br#"[3, 4]"#, "x"), Err(SourceError::PathNotFound));
	assert_eq!(price_at(br#"{"a": 1}"#, "a.b"), Err(SourceError::PathNotFound));
	assert_eq!(price_at(br#"{"a": true}"#, "a"), Err(SourceError::NotAPrice));
	assert_eq!(price_at(br#"{"a": null}"#, "a"), Err(SourceError::NotAPrice));
	assert_eq!(price_at(br#"{"a": {"b": 1}}"#, "a"), Err(SourceError::NotAPrice));
	assert_eq!(price_at(b"{\"a\": 1", "a"), Err(SourceError::NotJson));
	// Nesting beyond the parser's limit is refused, not a stack overflow.
	let deep = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
	assert_eq!(price_at(deep.as_bytes(), ""), Err(SourceError::NotJson));
}

#[test]
fn decimals_parse_exactly() {
	assert_eq!(parse_decimal("65000"), Some(p(65_000)));
	assert_eq!(parse_decimal("65000.125"), Some(price(65_000_125, 3)));
	assert_eq!(parse_decimal("0065000.50"), Some(price(650_005, 1)));
	assert_eq!(parse_decimal("6.5e4"), Some(p(65_000)));
	assert_eq!(parse_decimal("6.5E+4"), Some(p(65_000)));
	assert_eq!(parse_decimal("65e-3"), Some(price(65, 3)));
	assert_eq!(parse_decimal("0.000000000000000001"), Some(Price::from_inner(1)));
	// Beyond eighteen decimals the rest is cut off, towards zero.
	assert_eq!(parse_decimal("1.0000000000000000019"), Some(Price::from_inner(10u128.pow(18) + 1)));
	assert_eq!(parse_decimal("0.0000000000000000009"), None);
	assert_eq!(parse_decimal("1e-19"), None);
	for bad in [
		"", "0", "0.0", "-1", "+1", ".5", "1..2", "1.2.3", "1e", "e5", "1e5.5", "0x10", " 1",
		"1,5", "∞",
	] {
		assert_eq!(parse_decimal(bad), None, "{bad}");
	}
	// Out of range, not wrapped.
	assert_eq!(parse_decimal("1e21"), None);
	assert_eq!(parse_decimal("340282366920938463464"), None);
	assert_eq!(parse_decimal("1e2147483647"), None);
	assert_eq!(parse_decimal("1e-2147483648"), None);
}

mod properties {
	use super::*;
	use proptest::prelude::*;

	proptest! {
		#[test]
		fn whole_and_fraction_digits_are_exact(whole in 0u64.., fraction in "[0-9]{0,18}") {
			let text = if fraction.is_empty() { whole.to_string() } else { format!("{whole}.{fraction}") };
			let scale = 10u128.pow(18 - fraction.len() as u32);
			let fraction_units: u128 = if fraction.is_empty() { 0 } else { fraction.parse().unwrap() };
			let inner = u128::from(whole) * 10u128.pow(18) + fraction_units * scale;
			prop_assert_eq!(parse_decimal(&text), (inner > 0).then(|| Price::from_inner(inner)));
		}

		#[test]
		fn an_exponent_moves_the_point(units in 1u64..1_000_000_000, exponent in -18i32..=10) {
			let shifted = parse_decimal(&format!("{units}e{exponent}"));
			let inner = if exponent >= 0 {
				u128::from(units) * 10u128.pow(18 + exponent as u32)
			} else {
				u128::from(units) * 10u128.pow(18) / 10u128.pow(exponent.unsigned_abs())
			};
			prop_assert_eq!(shifted, (inner > 0).then(|| Price::from_inner(inner)));
		}

		#[test]
		fn any_text_or_reply_is_handled_without_panicking(text in ".{0,64}", body in proptest::collection::vec(any::<u8>(), 0..256), path in "[a-z0-9.]{0,12}") {
			let _ = parse_decimal(&text);
			let _ = price_at(&body, &path);
			let _ = parse_sources(&body);
		}
	}
}
