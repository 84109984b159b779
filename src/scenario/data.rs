//! Parsing of the data-protection settings (SPEC §8): a component's `data`
//! block, a standby's `replication` and recovery-point objectives.

use serde_json::Value;

use super::raw::{RawBackup, RawData, RawLoss, RawObjective, RawRpoObjective};
use super::{kind_of, section, Loader};
use crate::error::Issue;
use crate::model::dist::hours;
use crate::model::{BackupDef, DataDef, Dist};

/// Keys that belong in a component's `data` block, not beside it.
const DATA_KEYS: [&str; 4] = ["restore", "backup", "loss_on_failure", "loss"];

/// An objective as written: availability per window, or a recovery point.
pub(super) enum AnyObjective {
    Availability(RawObjective),
    Rpo(RawRpoObjective),
}

impl Loader {
    /// Reports data settings written beside a component's fields instead of
    /// inside its `data` block, and removes them so that they are not
    /// reported again as unknown fields.
    pub(super) fn misplaced_data_keys(&mut self, value: &mut Value, path: &str) {
        let Value::Object(map) = value else {
            return;
        };
        for key in DATA_KEYS {
            if map.remove(key).is_some() {
                self.push(
                    Issue::new(
                        format!("{path}.{key}"),
                        format!("`{key}` is a data-protection setting, but this component has no `data` block"),
                    )
                    .hint(format!(
                        "move it into \"data\": {{\"{key}\": ..., \"restore\": \"4h\"}} (SPEC §8)"
                    )),
                );
            }
        }
    }

    /// The validated `data` block at `path`.
    pub(super) fn data(&mut self, raw: RawData, path: &str) -> Option<DataDef> {
        let mut ok = true;
        let loss_on_failure = raw.loss_on_failure.unwrap_or(0.0);
        let destroys = loss_on_failure > 0.0 || raw.loss.is_some();
        if !(0.0..=1.0).contains(&loss_on_failure) {
            self.push(
                Issue::new(
                    format!("{path}.loss_on_failure"),
                    format!("loss_on_failure is a fraction between 0 and 1, got {loss_on_failure}"),
                )
                .hint("write 5% of failures as 0.05"),
            );
            ok = false;
        }
        let loss = match raw.loss {
            None => Some(None),
            Some(l) => self.loss(l, &format!("{path}.loss")).map(Some),
        };
        let backup = match raw.backup {
            None => Some(None),
            Some(b) => self.backup(b, &format!("{path}.backup")).map(Some),
        };
        let restore = match raw.restore {
            Some(v) => self.delay(v, &format!("{path}.restore")).map(Some),
            None if destroys => {
                self.push(
                    Issue::new(path, "missing `restore`: this data can be destroyed")
                        .hint("say how long restoring the data takes, e.g. \"restore\": \"4h\" or {\"dist\": \"lognormal\", \"mean\": \"4h\", \"cv\": 0.5}"),
                );
                None
            }
            None => Some(None),
        };
        let (loss, backup, restore) = (loss?, backup?, restore?);
        ok.then_some(DataDef {
            loss_on_failure,
            loss,
            backup,
            restore,
        })
    }

    fn loss(&mut self, raw: RawLoss, path: &str) -> Option<Dist> {
        match (raw.mtbf, raw.failure) {
            (Some(_), Some(_)) => {
                self.push(
                    Issue::new(
                        format!("{path}.failure"),
                        "both `mtbf` and `failure` are given",
                    )
                    .hint("keep one: `mtbf` is an exponential with that mean"),
                );
                None
            }
            (Some(m), None) => self.checked(&format!("{path}.mtbf"), Dist::exponential(m.hours())),
            (None, Some(d)) => super::build_dist(&d, &format!("{path}.failure"), &mut self.issues),
            (None, None) => {
                self.push(
                    Issue::new(path, "missing `mtbf` or `failure`")
                        .hint("e.g. \"loss\": {\"mtbf\": \"3y\"}"),
                );
                None
            }
        }
    }

    fn backup(&mut self, raw: RawBackup, path: &str) -> Option<BackupDef> {
        let interval = raw.interval.hours();
        let duration = raw.duration.map_or(0.0, |d| d.hours());
        let success = raw.success.unwrap_or(1.0);
        let offset = raw.offset.map_or(0.0, |d| d.hours());
        let mut ok = true;
        if interval <= 0.0 {
            self.push(
                Issue::new(
                    format!("{path}.interval"),
                    "the backup interval must be positive",
                )
                .hint("e.g. \"interval\": \"24h\""),
            );
            ok = false;
        } else if duration >= interval {
            self.push(
                Issue::new(
                    format!("{path}.interval"),
                    format!(
                        "the backup interval ({}) must be longer than its duration ({})",
                        hours(interval),
                        hours(duration)
                    ),
                )
                .hint("a backup must end before the next one starts: lengthen the interval or shorten the duration"),
            );
            ok = false;
        }
        if !(success > 0.0 && success <= 1.0) {
            let what = if (0.0..=1.0).contains(&success) {
                "a success of 0 makes every backup unusable"
            } else {
                "success is a probability between 0 and 1"
            };
            self.push(
                Issue::new(format!("{path}.success"), format!("{what}, got {success}"))
                    .hint("write 98% as 0.98; to model no backups, remove the `backup` block"),
            );
            ok = false;
        }
        ok.then_some(BackupDef {
            interval,
            duration,
            success,
            offset,
        })
    }

    /// A standby's `replication`: `None` for an error, `Some(None)` for
    /// synchronous replication, `Some(Some(lag))` for asynchronous.
    pub(super) fn replication(&mut self, value: Value, path: &str) -> Option<Option<Dist>> {
        const HINT: &str = "write \"sync\" or {\"async\": {\"lag\": \"5s\"}}";
        match value {
            Value::String(s) if s == "sync" => Some(None),
            Value::String(s) if s == "async" => push(
                self,
                Issue::new(path, "asynchronous replication needs its lag")
                    .hint("write {\"async\": {\"lag\": \"5s\"}}"),
            ),
            Value::Object(mut map) if map.len() == 1 && map.contains_key("async") => {
                let body = map.remove("async").unwrap_or(Value::Null);
                let Value::Object(mut body) = body else {
                    return push(
                        self,
                        Issue::new(
                            format!("{path}.async"),
                            format!("expected {{\"lag\": DURATION}}, got {}", kind_of(&body)),
                        )
                        .hint(HINT),
                    );
                };
                let Some(lag) = body.remove("lag") else {
                    return push(
                        self,
                        Issue::new(format!("{path}.async"), "missing `lag`").hint(HINT),
                    );
                };
                if let Some(k) = body.keys().next() {
                    return push(
                        self,
                        Issue::new(format!("{path}.async.{k}"), format!("unknown field `{k}`"))
                            .hint(HINT),
                    );
                }
                self.delay(lag, &format!("{path}.async.lag")).map(Some)
            }
            other => push(
                self,
                Issue::new(path, format!("unknown replication {}", describe(&other))).hint(HINT),
            ),
        }
    }

    /// One entry of `objectives`: availability or recovery point.
    pub(super) fn any_objective(&mut self, item: Value, path: &str) -> Option<AnyObjective> {
        let is_rpo = matches!(&item, Value::Object(m) if m.contains_key("rpo"));
        if is_rpo {
            section::<RawRpoObjective>(item, path, &mut self.issues).map(AnyObjective::Rpo)
        } else {
            section::<RawObjective>(item, path, &mut self.issues).map(AnyObjective::Availability)
        }
    }

    /// A checked recovery-point objective in hours.
    pub(super) fn rpo(&mut self, raw: RawRpoObjective, path: &str) -> Option<f64> {
        let h = raw.rpo.hours();
        if h > 0.0 {
            Some(h)
        } else {
            push(
                self,
                Issue::new(
                    format!("{path}.rpo"),
                    "the recovery-point objective must be positive",
                )
                .hint("e.g. {\"rpo\": \"1h\"}: the most data one incident may lose"),
            )
        }
    }
}

fn push<T>(l: &mut Loader, issue: Issue) -> Option<T> {
    l.push(issue);
    None
}

fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => format!("\"{s}\""),
        other => kind_of(other).to_string(),
    }
}
