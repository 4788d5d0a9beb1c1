//! The pallet's types: the breaker's levels, auctions, the waterfall's steps and the views.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use perp_primitives::{AssetId, Balance, MarketId, Price};
use scale_info::TypeInfo;
use sp_runtime::Perbill;

/// Identifier of a collateral auction.
pub type AuctionId = u32;

/// The Dutch-auction curve and its keeper rules, set by governance.
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	Eq,
	PartialEq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct AuctionParams<BlockNumber> {
	/// An auction starts at the oracle price times one plus this premium.
	pub start_premium: Perbill,
	/// The price falls by this share every block (exponential decay).
	pub step: Perbill,
	/// Below this share of the oracle price at its start, an auction must be restarted.
	pub floor: Perbill,
	/// After this many blocks, an auction must be restarted.
	pub tail: BlockNumber,
	/// USD the insurance fund pays whoever restarts an auction (as far as it holds it).
	pub tip: Balance,
	/// The least USD debt a partial take may leave to an auction.
	pub dust: Balance,
}

/// The most an auction may start above the oracle price.
pub const MAX_START_PREMIUM: Perbill = Perbill::from_percent(50);
/// The fastest decay per block.
pub const MAX_STEP: Perbill = Perbill::from_percent(50);
/// The longest an auction may run before it must be restarted, in blocks.
pub const MAX_TAIL: u32 = 14_400;
/// A restart's tip is at most this share of what the lot is worth at the restart price: a
/// dust lot cannot be restarted for a tip worth more than itself.
pub const MAX_TIP_SHARE: Perbill = Perbill::from_percent(1);

/// Collateral seized from `owner`, sold for USD until `tab` is raised.
#[derive(
	Clone, Encode, Decode, DecodeWithMemTracking, Eq, PartialEq, Debug, TypeInfo, MaxEncodedLen,
)]
pub struct Auction<AccountId, BlockNumber> {
	/// The liquidated account: takes repay its debt, and what is left after the tab is raised
	/// returns to it.
	pub owner: AccountId,
	/// The collateral asset on sale.
	pub asset: AssetId,
	/// Smallest units per whole unit of the asset.
	pub unit: Balance,
	/// What is left to sell, in the asset's smallest unit.
	pub lot: Balance,
	/// USD still to raise.
	pub tab: Balance,
	/// The price at `started`.
	pub top: Price,
	/// Below this price the auction must be restarted.
	pub floor: Price,
	/// The block the auction (re)started in.
	pub started: BlockNumber,
}

/// How much of the liquidation machinery may run.
#[derive(
	Clone,
	Copy,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	Eq,
	PartialEq,
	Ord,
	PartialOrd,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum BreakerLevel {
	/// Everything runs.
	#[default]
	Running,
	/// Accounts already in liquidation continue; no new liquidation starts.
	NoNewLiquidations,
	/// As above, and no auction may be taken.
	NoAuctions,
	/// Nothing runs.
	Halted,
}

/// What the breaker stops: each level lets fewer of them run.
#[derive(Clone, Copy, Eq, PartialEq, Debug)]
pub enum Stage {
	/// A new liquidation (by the worker or a keeper), and auto-deleveraging.
	Liquidation,
	/// Taking or restarting an auction.
	Auction,
}

impl BreakerLevel {
	/// Whether `stage` may run at this level.
	pub fn allows(&self, stage: Stage) -> bool {
		match stage {
			Stage::Liquidation => *self == BreakerLevel::Running,
			Stage::Auction => *self < BreakerLevel::NoAuctions,
		}
	}
}

/// What a per-block cap has used: `amount` in block `block`, nothing in any other block.
#[derive(
	Clone,
	Copy,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	Eq,
	PartialEq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct BlockTally<BlockNumber> {
	/// The block the amount was counted in.
	pub block: BlockNumber,
	/// The amount, in USD.
	pub amount: Balance,
}

impl<BlockNumber: PartialEq> BlockTally<BlockNumber> {
	/// What the tally holds for block `now`: nothing once its block has passed.
	pub fn in_block(&self, now: &BlockNumber) -> Balance {
		if self.block == *now {
			self.amount
		} else {
			0
		}
	}
}

/// One position a liquidation closed, as its account's `Liquidated` event tells it.
#[derive(Clone, Copy, Encode, Decode, DecodeWithMemTracking, Eq, PartialEq, Debug, TypeInfo)]
pub struct ClosedPosition {
	/// The market.
	pub market: MarketId,
	/// Units closed, signed like the position (positive: a long).
	pub closed: i128,
	/// The price it closed at (the oracle price less the discount for a long, plus it for a
	/// short).
	pub price: Price,
	/// The PnL the closed part realized, in USD.
	pub realized: i128,
	/// The penalty paid to the insurance fund, in USD.
	pub penalty: Balance,
}

/// One step of the liquidation waterfall, as `LiquidationApi::path` reports it.
#[derive(Clone, Encode, Decode, Eq, PartialEq, Debug, TypeInfo)]
pub enum Step {
	/// Stage (a): `closed` units of a position in `market` closed at `price`, `penalty` USD
	/// to the insurance fund.
	Close { market: MarketId, closed: Balance, price: Price, penalty: Balance },
	/// Stage (b): `lot` of `asset` seized into auction `id` to raise `tab` USD.
	Auction { id: AuctionId, asset: AssetId, lot: Balance, tab: Balance },
	/// Stage (b), below the minimum lot: `amount` of `asset` taken by the insurance fund at
	/// the floor price, `paid` USD of it against the debt.
	Folded { asset: AssetId, amount: Balance, paid: Balance },
	/// Stage (c): a debt settled, `insurance` by the fund and `socialized` by the vault.
	Shortfall { insurance: Balance, socialized: Balance },
}

/// What a liquidation did to one account.
#[derive(Clone, Default, Debug, PartialEq, Eq)]
pub struct Outcome {
	/// The steps, in order.
	pub path: Vec<Step>,
	/// Whether any position is left open after stage (a).
	pub positions_left: bool,
	/// The account's margins at fresh prices after stage (a); `None` without fresh prices.
	pub after: Option<perp_primitives::Margins>,
}

impl Outcome {
	/// What of the penalties the account could pay: their sum less the deficit (negative
	/// equity) the account is left with after stage (a), which the insurance fund bears in
	/// the end. Nothing when the margins after are unknown. A keeper's reward is a share of it.
	pub fn collected_penalty(&self) -> Balance {
		let Some(after) = self.after else { return 0 };
		self.penalty().saturating_sub(after.equity.min(0).unsigned_abs())
	}

	/// The penalties credited to the insurance fund.
	pub fn penalty(&self) -> Balance {
		self.path
			.iter()
			.map(|step| match step {
				Step::Close { penalty, .. } => *penalty,
				_ => 0,
			})
			.fold(0, Balance::saturating_add)
	}
}

/// An open auction with its price now.
#[derive(Clone, Encode, Decode, Eq, PartialEq, Debug, TypeInfo)]
pub struct AuctionView<AccountId, BlockNumber> {
	/// The auction's id, for `take` and `restart`.
	pub id: AuctionId,
	/// The auction.
	pub auction: Auction<AccountId, BlockNumber>,
	/// Its price in the current block.
	pub price: Price,
	/// Whether it must be restarted before anyone can take from it.
	pub needs_restart: bool,
}

/// The insurance fund's state.
#[derive(Clone, Encode, Decode, Eq, PartialEq, Debug, TypeInfo)]
pub struct FundView<AccountId> {
	/// Its margin account.
	pub account: AccountId,
	/// Its USD cash.
	pub cash: i128,
	/// What it has paid towards shortfalls in the current block.
	pub paid_this_block: Balance,
	/// The most it pays in one block.
	pub cap_per_block: Balance,
}

/// The vault's socialized loss and the positions auto-deleveraging would close first.
#[derive(Clone, Encode, Decode, Eq, PartialEq, Debug, TypeInfo)]
pub struct AdlView<AccountId> {
	/// The loss the vault absorbed and deleveraging has not recovered, in USD.
	pub socialized_loss: Balance,
	/// Deleveraging recovers what is beyond this.
	pub threshold: Balance,
	/// The best-ranked positions that may be deleveraged now, best first.
	pub ranking: Vec<AdlTarget<AccountId>>,
}

/// A position in profit as auto-deleveraging ranks it.
#[derive(Clone, Encode, Decode, Eq, PartialEq, Debug, TypeInfo)]
pub struct AdlTarget<AccountId> {
	/// Its holder.
	pub who: AccountId,
	/// Its market.
	pub market: MarketId,
	/// PnL%: unrealized PnL over entry cost, at the market's fresh price (from the entry
	/// price).
	pub score: sp_runtime::FixedU128,
	/// Its unrealized PnL, in USD.
	pub pnl: i128,
}
