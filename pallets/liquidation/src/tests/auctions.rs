//! Stages (b) and (c): folds, Dutch auctions, restarts, the insurance fund and the vault.

use super::*;

#[test]
fn dust_collateral_is_folded_into_the_settlement_instead_of_auctioned() {
	run_test(|| {
		// 1,000 USD of debt, and one DOT (5 USD, below the 10 USD minimum lot) to cover it.
		indebted(1_000, 1);
		let before = totals();
		assert_ok!(liquidate(&[OWNER]));
		// No auction nobody would take: the fund takes the DOT at the floor (2.50 USD), and
		// the rest of the debt is a shortfall at once.
		assert_eq!(crate::CounterForAuctions::<Test>::get(), 0);
		assert_eq!((holding(OWNER, DOT), holding(fund(), DOT)), (0, DOT_UNIT));
		let paid = usd(5) / 2;
		System::assert_has_event(
			Event::CollateralFolded { who: OWNER, asset: DOT, amount: DOT_UNIT, paid }.into(),
		);
		System::assert_has_event(
			Event::ShortfallSettled {
				who: OWNER,
				insurance: INSURANCE_CAP,
				socialized: usd(1_000) - paid - INSURANCE_CAP,
			}
			.into(),
		);
		assert_eq!(cash(OWNER), 0);
		assert_eq!(totals(), before);
	});
}

#[test]
fn a_debt_below_the_minimum_lot_is_bought_out_by_the_fund_at_the_floor() {
	run_test(|| {
		// 5 USD of debt (below the 10 USD minimum lot) against 1,000 DOT.
		indebted(5, 1_000);
		let before = totals();
		assert_ok!(liquidate(&[OWNER]));
		// The fund pays the debt and takes what covers it at the floor (2.50 USD): 2 DOT.
		assert_eq!(crate::CounterForAuctions::<Test>::get(), 0);
		assert_eq!((holding(OWNER, DOT), holding(fund(), DOT)), (998 * DOT_UNIT, 2 * DOT_UNIT));
		assert_eq!((cash(OWNER), cash(fund())), (0, (usd(1_000) - usd(5)) as i128));
		assert_eq!(totals(), before);
		assert!(!Pallet::<Test>::may_liquidate(&OWNER));
	});
}

#[test]
fn one_liquidation_starts_at_most_max_auctions_per_liquidation_auctions() {
	run_test(|| {
		// 1,000 USD of debt against 20 DOT and 20 each of assets 5 and 6 (100 USD each).
		indebted(1_000, 20);
		for asset in [5, 6] {
			set_holding(OWNER, asset, 20 * DOT_UNIT);
			set_price(asset, Price::from_u32(5), PriceStatus::Fresh);
		}
		let before = totals();
		assert_ok!(liquidate(&[OWNER]));
		// Two auctions (the mock's bound); asset 6 waits for them to end.
		assert_eq!(crate::CounterForAuctions::<Test>::get(), 2);
		assert_eq!(holding(OWNER, 6), 20 * DOT_UNIT);
		assert_eq!(totals(), before);
	});
}

#[test]
fn debt_left_without_positions_sends_the_collateral_that_covers_it_to_auction() {
	run_test(|| {
		indebted(1_000, 1_000);
		let before = totals();
		assert!(Pallet::<Test>::may_liquidate(&OWNER));
		assert_ok!(liquidate(&[OWNER]));
		// Enough to raise 1,000 USD at the floor (half of 5): 400 DOT; the rest stays.
		let auction = crate::Auctions::<Test>::get(0).unwrap();
		let top = Price::from_rational(55, 10);
		assert_eq!(
			(auction.owner, auction.lot, auction.tab, auction.top, auction.floor),
			(OWNER, 400 * DOT_UNIT, usd(1_000), top, Price::from_rational(25, 10))
		);
		System::assert_has_event(
			Event::AuctionStarted {
				id: 0,
				who: OWNER,
				asset: DOT,
				lot: 400 * DOT_UNIT,
				tab: usd(1_000),
				top,
			}
			.into(),
		);
		let views = Pallet::<Test>::auction_views();
		assert_eq!(views.len(), 1);
		assert_eq!((views[0].id, views[0].price, views[0].needs_restart), (0, top, false));
		assert_eq!(holding(OWNER, DOT), 600 * DOT_UNIT);
		assert_eq!(holding(Pallet::<Test>::auction_account(), DOT), 400 * DOT_UNIT);
		// The debt is being raised: no second liquidation, no shortfall paid yet.
		assert!(!Pallet::<Test>::may_liquidate(&OWNER));
		assert_eq!(cash(OWNER), -(usd(1_000) as i128));
		assert_eq!(totals(), before);
	});
}

#[test]
fn the_auction_price_decays_every_block_and_takes_repay_the_debt_and_return_the_surplus() {
	run_test(|| {
		indebted(1_000, 1_000);
		assert_ok!(liquidate(&[OWNER]));
		let before = totals();
		let top = Price::from_rational(55, 10);
		assert_noop!(take(100 * DOT_UNIT, Price::from_u32(5)), Error::<Test>::PriceAboveLimit);
		// 100 DOT at 5.50: 550 USD to the owner's debt. The auction goes on: the take is
		// refunded the debt stage its declared weight allows for.
		assert_eq!(take_weighed(100 * DOT_UNIT, top), Ok(Pallet::<Test>::take_weight(false)));
		let declared = Call::<Test>::take { id: 0, max_amount: 1, max_price: top };
		assert_eq!(declared.get_dispatch_info().call_weight, Pallet::<Test>::take_weight(true));
		assert!(Pallet::<Test>::take_weight(false).all_lt(Pallet::<Test>::take_weight(true)));
		System::assert_last_event(
			Event::AuctionTaken {
				id: 0,
				taker: TAKER,
				amount: 100 * DOT_UNIT,
				price: top,
				paid: usd(550),
			}
			.into(),
		);
		assert_eq!(cash(OWNER), -(usd(450) as i128));
		assert_eq!(holding(TAKER, DOT), 100 * DOT_UNIT);
		// 80.90 DOT would pay 444.95 and leave 5.05 USD, under the 10 USD dust.
		assert_noop!(take(centi_dot(8_090), top), Error::<Test>::LeavesDust);

		// Ten blocks later: 5.50 × 0.99^10.
		at_block(11);
		let price = Pallet::<Test>::auction_price(&crate::Auctions::<Test>::get(0).unwrap(), 11);
		let expected = top.saturating_mul(Price::from_rational(99, 100).saturating_pow(10));
		assert_eq!(price, expected);
		assert!(price < top && price > Price::from_rational(497, 100));
		// Asking for all 300 DOT left: the 450 USD tab caps it, the rest returns to the owner.
		assert_eq!(take_weighed(300 * DOT_UNIT, top), Ok(Pallet::<Test>::take_weight(true)));
		let bought = holding(TAKER, DOT) - 100 * DOT_UNIT;
		assert!(bought > centi_dot(9_040) && bought < centi_dot(9_050), "{bought}");
		assert_eq!(cash(OWNER), 0);
		assert_eq!(holding(OWNER, DOT), 1_000 * DOT_UNIT - 100 * DOT_UNIT - bought);
		System::assert_last_event(
			Event::AuctionEnded { id: 0, returned: 300 * DOT_UNIT - bought, unpaid: 0 }.into(),
		);
		assert!(crate::Auctions::<Test>::get(0).is_none());
		assert_eq!(<MarginDouble as perp_primitives::MarginReader<u64>>::open_auctions(&OWNER), 0);
		assert_eq!(totals(), before);
		assert_noop!(take(1, top), Error::<Test>::UnknownAuction);
	});
}

#[test]
fn a_stalled_auction_is_restarted_at_a_fresh_price_with_a_tip() {
	run_test(|| {
		indebted(1_000, 1_000);
		assert_ok!(liquidate(&[OWNER]));
		let restart = || Liquidation::restart(RuntimeOrigin::signed(KEEPER), 0);
		assert_noop!(restart(), Error::<Test>::AuctionRunning);
		// Past the 20-block tail.
		at_block(22);
		assert_noop!(take(DOT_UNIT, Price::from_u32(10)), Error::<Test>::AuctionNeedsRestart);
		set_price(DOT, Price::from_u32(4), PriceStatus::Stale);
		assert_noop!(restart(), Error::<Test>::PriceNotFresh);
		set_price(DOT, Price::from_u32(4), PriceStatus::Fresh);
		assert_ok!(restart());
		let top = Price::from_rational(44, 10);
		System::assert_last_event(
			Event::AuctionRestarted { id: 0, top, keeper: KEEPER, tip: usd(5) }.into(),
		);
		let auction = crate::Auctions::<Test>::get(0).unwrap();
		assert_eq!((auction.top, auction.floor, auction.started), (top, Price::from_u32(2), 22));
		assert_eq!(cash(KEEPER), usd(5) as i128);
		assert_ok!(take(DOT_UNIT, top));

		// Below the floor before the tail: at 10% a block, 4.40 × 0.9^8 ≈ 1.89 < 2.
		let mut params = crate::Params::<Test>::get();
		params.step = Perbill::from_percent(10);
		assert_ok!(Liquidation::set_params(RuntimeOrigin::root(), params));
		at_block(22 + 8);
		assert_noop!(take(DOT_UNIT, top), Error::<Test>::AuctionNeedsRestart);
		assert_ok!(restart());
	});
}

#[test]
fn an_auction_nobody_takes_is_retired_to_the_insurance_fund_after_its_last_restart() {
	run_test(|| {
		// 100 DOT cannot cover the 1,000 USD debt: all of it goes to auction.
		indebted(1_000, 100);
		assert_ok!(liquidate(&[OWNER]));
		let auction = crate::Auctions::<Test>::get(0).unwrap();
		let before = totals();
		let restart = || Liquidation::restart(RuntimeOrigin::signed(KEEPER), 0);
		let max: u32 =
			<<Test as crate::Config>::MaxRestarts as frame_support::traits::Get<u32>>::get();
		let mut block = 1;
		for n in 1..=max {
			block += 21;
			at_block(block);
			assert_ok!(restart());
			assert_eq!(crate::Restarts::<Test>::get(0), n);
		}
		// One restart more: nobody took the lot in all those rounds; it is retired to the
		// fund, and the owner's debt goes to the shortfall stage instead of a new round.
		block += 21;
		at_block(block);
		let fund_cash = cash(fund());
		assert_ok!(restart());
		System::assert_has_event(
			Event::AuctionRetired { id: 0, lot: auction.lot, unpaid: auction.tab }.into(),
		);
		assert!(crate::Auctions::<Test>::get(0).is_none());
		assert_eq!(crate::Restarts::<Test>::get(0), 0);
		assert_eq!(<MarginDouble as perp_primitives::MarginReader<u64>>::open_auctions(&OWNER), 0);
		assert_eq!(holding(fund(), DOT), auction.lot);
		assert_eq!(cash(OWNER), 0, "the debt was settled");
		assert!(cash(fund()) < fund_cash);
		assert_eq!(totals(), before);
		assert_noop!(restart(), Error::<Test>::UnknownAuction);
	});
}

#[test]
fn a_restart_tip_is_at_most_a_share_of_what_the_lot_is_worth() {
	run_test(|| {
		// 3 DOT (12 USD at the restart price) behind a debt: the 5 USD tip would be most of
		// what the lot is worth; a restart pays 1% of the lot's value.
		indebted(1_000, 3);
		assert_ok!(liquidate(&[OWNER]));
		at_block(22);
		set_price(DOT, Price::from_u32(4), PriceStatus::Fresh);
		assert_ok!(Liquidation::restart(RuntimeOrigin::signed(KEEPER), 0));
		let tip = usd(12) / 100;
		System::assert_has_event(
			Event::AuctionRestarted {
				id: 0,
				top: Price::from_rational(44, 10),
				keeper: KEEPER,
				tip,
			}
			.into(),
		);
		assert_eq!(cash(KEEPER), tip as i128);
	});
}

#[test]
fn an_unsold_tab_goes_to_the_insurance_fund_up_to_its_cap_and_the_rest_to_the_vault() {
	run_test(|| {
		// 100 DOT (500 USD) cannot cover 1,000 USD even at the oracle: the whole holding goes
		// to auction for the whole debt.
		indebted(1_000, 100);
		assert_ok!(liquidate(&[OWNER]));
		let auction = crate::Auctions::<Test>::get(0).unwrap();
		assert_eq!((auction.lot, auction.tab), (100 * DOT_UNIT, usd(1_000)));
		let before = totals();
		assert_ok!(take(100 * DOT_UNIT, Price::from_u32(6)));
		// 550 raised, 450 unpaid: the fund pays its 100 USD cap, the vault the other 350.
		System::assert_has_event(
			Event::AuctionEnded { id: 0, returned: 0, unpaid: usd(450) }.into(),
		);
		System::assert_last_event(
			Event::ShortfallSettled { who: OWNER, insurance: usd(100), socialized: usd(350) }
				.into(),
		);
		assert_eq!(cash(OWNER), 0);
		assert_eq!(cash(fund()), usd(900) as i128);
		assert_eq!(Absorbed::get(), usd(350));
		// Every USD is accounted: the vault's absorbed loss is part of `totals`.
		assert_eq!(totals(), before);
	});
}

#[test]
fn debt_with_no_collateral_is_settled_at_once_and_the_fund_cap_is_per_block() {
	run_test(|| {
		set_cash(fund(), usd(1_000) as i128);
		for (who, debt) in [(20, 60), (21, 60), (22, 30)] {
			book(who, -1, 0, 0, &[]);
			set_cash(who, -(usd(debt) as i128));
		}
		assert_ok!(liquidate(&[20, 21]));
		// 100 USD a block: 60 for the first, 40 for the second, whose other 20 is socialized.
		System::assert_has_event(
			Event::ShortfallSettled { who: 20, insurance: usd(60), socialized: 0 }.into(),
		);
		System::assert_has_event(
			Event::ShortfallSettled { who: 21, insurance: usd(40), socialized: usd(20) }.into(),
		);
		assert_eq!(Absorbed::get(), usd(20));
		at_block(2);
		assert_ok!(liquidate(&[22]));
		System::assert_has_event(
			Event::ShortfallSettled { who: 22, insurance: usd(30), socialized: 0 }.into(),
		);
		assert_eq!(cash(fund()), usd(870) as i128);
		assert!([20, 21, 22].iter().all(|who| cash(*who) == 0));
	});
}

#[test]
fn anyone_may_pay_into_the_insurance_fund_from_their_cash() {
	run_test(|| {
		set_cash(TAKER, usd(50) as i128);
		assert_ok!(Liquidation::fund_insurance(RuntimeOrigin::signed(TAKER), usd(20)));
		System::assert_last_event(Event::InsuranceFunded { who: TAKER, amount: usd(20) }.into());
		assert_eq!((cash(TAKER), cash(fund())), (usd(30) as i128, usd(20) as i128));
		assert_noop!(
			Liquidation::fund_insurance(RuntimeOrigin::signed(TAKER), 0),
			Error::<Test>::ZeroAmount
		);
		assert_noop!(
			Liquidation::fund_insurance(RuntimeOrigin::signed(TAKER), usd(31)),
			DispatchError::Other("insufficient cash")
		);
		assert_eq!(Pallet::<Test>::fund_view().cash, usd(20) as i128);
	});
}

#[test]
fn auctions_stop_with_the_breaker_and_bad_parameters_are_refused() {
	run_test(|| {
		indebted(1_000, 1_000);
		assert_ok!(liquidate(&[OWNER]));
		assert_noop!(take(0, Price::from_u32(10)), Error::<Test>::ZeroAmount);
		assert_noop!(
			Liquidation::take(RuntimeOrigin::signed(OWNER), 0, DOT_UNIT, Price::from_u32(10)),
			DispatchError::Other("insufficient cash")
		);
		assert_ok!(Liquidation::set_breaker(RuntimeOrigin::root(), BreakerLevel::NoAuctions));
		assert_noop!(take(DOT_UNIT, Price::from_u32(10)), Error::<Test>::BreakerActive);
		assert_noop!(
			Liquidation::restart(RuntimeOrigin::signed(KEEPER), 0),
			Error::<Test>::BreakerActive
		);

		let good = crate::Params::<Test>::get();
		assert_noop!(
			Liquidation::set_params(RuntimeOrigin::signed(1), good),
			DispatchError::BadOrigin
		);
		let bad = [
			crate::AuctionParams { step: Perbill::zero(), ..good },
			crate::AuctionParams { step: Perbill::from_percent(51), ..good },
			crate::AuctionParams { floor: Perbill::zero(), ..good },
			crate::AuctionParams { floor: Perbill::one(), ..good },
			crate::AuctionParams { start_premium: Perbill::from_percent(51), ..good },
			crate::AuctionParams { tail: 0, ..good },
			crate::AuctionParams { tail: 14_401, ..good },
		];
		for params in bad {
			assert_noop!(
				Liquidation::set_params(RuntimeOrigin::root(), params),
				Error::<Test>::InvalidParams
			);
		}
		assert_ok!(Liquidation::set_params(RuntimeOrigin::root(), good));
		System::assert_last_event(Event::ParamsSet { params: good }.into());
	});
}

#[test]
fn the_auction_count_stays_where_the_counted_map_kept_it() {
	use frame_support::storage::generator::StorageValue as _;
	// A counted map keeps its counter as the value `CounterFor<map>` of its pallet: the
	// chains that ran with `Auctions` counted read the same count.
	let key =
		[sp_io::hashing::twox_128(b"Liquidation"), sp_io::hashing::twox_128(b"CounterForAuctions")]
			.concat();
	assert_eq!(crate::CounterForAuctions::<Test>::storage_value_final_key().to_vec(), key);
	run_test(|| {
		indebted(10_000, 1_000);
		assert_ok!(liquidate(&[OWNER]));
		let open = crate::Auctions::<Test>::iter_keys().count() as u32;
		assert!(open > 0);
		assert_eq!(frame_support::storage::unhashed::get::<u32>(&key), Some(open));
	});
}
