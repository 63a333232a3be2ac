//! The streamed merge of a scatter read that needs no state beyond the current rows: the
//! shards' streams are merged as their rows arrive (a k-way merge of sorted streams for an
//! ORDER BY, else concatenated in target order), then OFFSET/LIMIT, hidden columns dropped.
//! The rows are the same, in the same order, as the buffered merge ([`super::fold`],
//! [`super::finish`]) gives; only a window of each shard's rows is in memory at a time.

use super::compare::KeyCol;
use super::{Keys, order, sort_keys};
use crate::error::{ProxyError, Result};
use crate::execute::{Batch, Batcher, Conns, RowStream, StreamEnd};
use crate::frontend::packets::ColumnDef;
use crate::plan::RowMerge;
use mysql_async::Value;
use std::cmp::Ordering;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Rows buffered between the merge and a slow client.
const MERGE_BUFFER: usize = 8;

/// Whether `m` can be merged as the rows arrive: no aggregates, groups, DISTINCT or
/// expressions over merged values, only an order, a LIMIT and hidden columns.
pub fn streamable(m: &RowMerge) -> bool {
    m.aggregates.is_none()
        && m.group_keys.is_none()
        && !m.distinct
        && !super::eval::needed(m)
        && m.averages.is_empty()
        && m.hidden_aggs.is_empty()
        && m.variances.is_empty()
        && m.distincts.is_empty()
        && m.computed.is_empty()
        && m.having.is_none()
}

/// A streamed merge, checked against the result's columns (those of the first shard).
pub struct StreamMerge {
    /// Every column, hidden ones included: what the sort keys index.
    columns: Arc<Vec<ColumnDef>>,
    sort: Vec<(KeyCol, bool)>,
    offset: usize,
    limit: Option<usize>,
    /// Columns the client sees (the first ones).
    visible: usize,
}

impl StreamMerge {
    /// The merge of `m` over rows with `columns`: refused as the buffered merge refuses (a text
    /// sort key without a weight string, an ENUM/SET sort key).
    pub fn new(m: &RowMerge, columns: Arc<Vec<ColumnDef>>) -> Result<StreamMerge> {
        let sort = sort_keys(m, &Keys::new(m, &columns)?)?;
        let visible = match columns.len().checked_sub(m.hidden) {
            Some(n) if m.hidden > 0 => n,
            _ => columns.len(),
        };
        Ok(StreamMerge {
            sort,
            offset: usize::try_from(m.offset).unwrap_or(usize::MAX),
            limit: m.limit.map(|l| usize::try_from(l).unwrap_or(usize::MAX)),
            visible,
            columns,
        })
    }

    /// Starts the merge of `inputs` (in target order) in a task of its own: the client's
    /// stream, whose end gives back every input's connection.
    pub fn start(self, inputs: Vec<RowStream>) -> RowStream {
        let columns = Arc::new(self.columns[..self.visible].to_vec());
        let shards = inputs
            .iter()
            .flat_map(|s| s.shards().iter().copied())
            .collect();
        let hands_back = inputs.iter().any(RowStream::hands_back);
        let (tx, rx) = mpsc::channel(MERGE_BUFFER);
        let task = tokio::spawn(async move {
            let mut inputs = inputs;
            let mut batch = Batcher::default();
            self.relay(&mut inputs, &tx, &mut batch).await;
            batch.flush(&tx).await;
            drop(tx);
            end(inputs).await
        });
        RowStream::merged(columns, rx, task, shards, hands_back)
    }

    /// Sends the merged rows to `out` until the inputs end, the LIMIT is reached, an input
    /// fails (its error is sent on) or the client goes away.
    async fn relay(
        &self,
        inputs: &mut [RowStream],
        out: &mpsc::Sender<Batch>,
        batch: &mut Batcher,
    ) {
        let mut heads = Vec::with_capacity(inputs.len());
        for input in inputs.iter_mut() {
            match next(input).await {
                Ok(head) => heads.push(head),
                Err(e) => {
                    batch.fail(out, e).await;
                    return;
                }
            }
        }
        let mut skip = self.offset;
        let mut left = self.limit;
        while left != Some(0) {
            let Some(b) = self.pick(&heads) else {
                return;
            };
            let Some(mut row) = heads[b].take() else {
                return;
            };
            let head = {
                let mut head = std::pin::pin!(next(&mut inputs[b]));
                match crate::execute::ready_now(head.as_mut()).await {
                    Some(head) => head,
                    None => {
                        // That input has nothing more yet: the client gets what is merged.
                        batch.flush(out).await;
                        head.await
                    }
                }
            };
            match head {
                Ok(head) => heads[b] = head,
                Err(e) => {
                    batch.fail(out, e).await;
                    return;
                }
            }
            if skip > 0 {
                skip -= 1;
                continue;
            }
            row.truncate(self.visible);
            if !batch.push(out, row).await {
                return; // the client went away
            }
            left = left.map(|l| l - 1);
        }
    }

    /// The input whose head row comes next: the smallest under the ORDER BY, the earliest
    /// input on ties (as the buffered merge orders them); without ORDER BY the first input
    /// with rows left.
    fn pick(&self, heads: &[Option<Vec<Value>>]) -> Option<usize> {
        let mut best: Option<(usize, &Vec<Value>)> = None;
        for (i, head) in heads.iter().enumerate() {
            let Some(row) = head else { continue };
            if self.sort.is_empty() {
                return Some(i);
            }
            let better = match best {
                None => true,
                Some((_, b)) => order(row, b, &self.sort, &self.columns) == Ordering::Less,
            };
            if better {
                best = Some((i, row));
            }
        }
        best.map(|(i, _)| i)
    }
}

/// An input's next row; `None` at its end.
async fn next(input: &mut RowStream) -> Result<Option<Vec<Value>>> {
    input.next().await.transpose()
}

/// Ends every input at once (each backend task drains what was not read) and combines their
/// ends: warnings added up in target order, the first error.
async fn end(inputs: Vec<RowStream>) -> (Conns, Result<StreamEnd>) {
    let ends = futures_util::future::join_all(inputs.into_iter().map(RowStream::finish)).await;
    let mut conns = Vec::with_capacity(ends.len());
    let (mut count, mut list, mut failed) = (0u16, Vec::new(), None::<ProxyError>);
    for (c, e) in ends {
        conns.extend(c);
        match e {
            Ok((n, l)) => {
                count = count.saturating_add(n);
                list.extend(l);
            }
            Err(e) => {
                failed.get_or_insert(e);
            }
        }
    }
    (
        conns,
        match failed {
            Some(e) => Err(e),
            None => Ok((count, list)),
        },
    )
}
