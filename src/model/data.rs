//! Data protection settings (SPEC §8): what destroys an instance's data,
//! its backups and its restore.

use super::Dist;

/// The `data` block of a component, validated.
#[derive(Clone, Debug)]
pub struct DataDef {
    /// Fraction of the instance's own failures that destroy its data.
    pub loss_on_failure: f64,
    /// A separate process that destroys the data (corruption, a bad
    /// deploy, ransomware); the instance goes down for the restore.
    pub loss: Option<Dist>,
    /// Periodic backups; `None`: no backups (a destruction loses all data
    /// written since the end of the last restore, or since the start).
    pub backup: Option<BackupDef>,
    /// Time to restore the data once the hardware is repaired; `None` only
    /// when nothing can destroy the data (validation requires it otherwise).
    pub restore: Option<Dist>,
}

/// Periodic backups (or checkpoints).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BackupDef {
    /// Hours between the starts of two backups.
    pub interval: f64,
    /// Hours a backup takes; it captures the data as of its start and is
    /// usable from its end.
    pub duration: f64,
    /// Probability that a backup is usable (a failed one is silent).
    pub success: f64,
    /// Start of the first backup, in hours from the start of a replication.
    pub offset: f64,
}

impl BackupDef {
    /// Start of backup `k` (k = 0, 1, ...).
    pub fn start(&self, k: u64) -> f64 {
        self.offset + k as f64 * self.interval
    }

    /// # Formula
    /// ```text
    /// E[loss] = d + τ/2 + τ(1 − s)/s
    /// ```
    /// The mean data lost per destruction (hours) when destruction times
    /// are independent of the backup schedule and no backup is skipped: the
    /// age of the last started backup is uniform on [0, τ); one still
    /// running (age < d) is not usable, and each failed backup adds τ.
    pub fn mean_loss(&self) -> f64 {
        let (tau, d, s) = (self.interval, self.duration, self.success);
        d + tau / 2.0 + tau * (1.0 - s) / s
    }
}

impl DataDef {
    /// Mean restore time (0 without a restore).
    pub fn restore_mean(&self) -> f64 {
        self.restore.as_ref().map_or(0.0, Dist::mean)
    }

    /// The mean data lost per destruction when the schedule and the
    /// destructions are independent; `None` without backups (then the loss
    /// grows with the time since the start and has no steady mean).
    pub fn mean_loss(&self) -> Option<f64> {
        self.backup.as_ref().map(BackupDef::mean_loss)
    }
}
