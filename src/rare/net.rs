//! The static structure the rare-event paths run on: instances, crews,
//! common causes, standby nodes and the structure function, flattened from
//! the validated model once.

use crate::model::{Dist, Mode, Model, Node};

use super::hazard::has_hazard;

/// Most instances the rare-event method takes: each event scans every
/// clock, so cost per event grows with the instance count.
pub const MAX_INSTANCES: usize = 500;

/// A node of the structure function.
#[derive(Clone, Debug)]
pub(super) enum RNode {
    /// An instance: up when its own process is up and no common cause
    /// holds it.
    Inst(usize),
    /// Up when at least `k` children are up (series, parallel, k-of-n,
    /// and a balancer: its `via` and `min_healthy` of its pool).
    Gate(usize, Vec<RNode>),
    /// Standby node `s`: up when its active unit is up and working.
    Standby(usize),
}

/// A node of the flat structure function ([`Net::flat`]).
#[derive(Clone, Debug)]
pub(super) struct FNode {
    pub kind: FKind,
    /// Children's indices in [`Net::flat`] (standby: its units).
    pub children: Vec<usize>,
    /// Parent's index; `usize::MAX` for the root.
    pub parent: usize,
}

/// What a [`FNode`] is.
#[derive(Clone, Copy, Debug)]
pub(super) enum FKind {
    Inst(usize),
    Gate(usize),
    Standby(usize),
}

/// A failure or repair law with what biasing needs.
#[derive(Clone, Debug)]
pub(super) struct Law {
    pub dist: Dist,
    /// Biasable through its hazard.
    pub hazard: bool,
}

impl Law {
    fn new(dist: &Dist) -> Law {
        Law {
            dist: dist.clone(),
            hazard: has_hazard(dist),
        }
    }
}

/// An instance.
#[derive(Clone, Debug)]
pub(super) struct Inst {
    pub life: Law,
    pub repair: Dist,
    pub crew: Option<usize>,
}

/// A common-cause process.
#[derive(Clone, Debug)]
pub(super) struct Cause {
    pub life: Law,
    pub repair: Dist,
    pub affects: Vec<usize>,
}

/// A standby node.
#[derive(Clone, Debug)]
pub(super) struct Sb {
    pub units: Vec<RNode>,
    pub idle_speed: f64,
    pub detection: Option<Dist>,
    pub failover: Option<Dist>,
    pub switch_success: f64,
    pub manual: Option<Dist>,
}

/// The flattened model.
#[derive(Clone, Debug)]
pub(super) struct Net {
    pub inst: Vec<Inst>,
    pub crews: Vec<usize>,
    pub causes: Vec<Cause>,
    pub standbys: Vec<Sb>,
    /// Per instance, the (standby, unit) pairs that enclose it.
    pub enclosures: Vec<Vec<(usize, usize)>>,
    pub root: RNode,
    /// The structure function again, flat and children first (the root
    /// last), for the distance to the nearest cut.
    pub flat: Vec<FNode>,
    /// Per instance, its leaves in `flat`.
    pub leaves: Vec<Vec<usize>>,
    /// Whether the all-fine state is regenerative (every life exponential,
    /// no standby): then each cycle from it is independent.
    pub regenerative: bool,
}

impl Net {
    /// Flattens `model`, or says why the method cannot take it.
    pub fn new(model: &Model) -> Result<Net, String> {
        if model.instances.len() > MAX_INSTANCES {
            return Err(format!(
                "it has {} instances and the method takes at most {MAX_INSTANCES} (every event scans every clock); use --method plain",
                model.instances.len()
            ));
        }
        if let Some(i) = model.instances.iter().find(|i| i.data.is_some()) {
            return Err(format!(
                "instance {} holds data (SPEC §8): restores and data loss change its repairs, which the method does not model; use --method plain",
                i.name
            ));
        }
        let inst: Vec<Inst> = model
            .instances
            .iter()
            .map(|i| Inst {
                life: Law::new(&i.failure),
                repair: i.repair.clone(),
                crew: i.crew,
            })
            .collect();
        let causes: Vec<Cause> = model
            .common_causes
            .iter()
            .map(|c| Cause {
                life: Law::new(&c.failure),
                repair: c.repair.clone(),
                affects: c.affects.clone(),
            })
            .collect();
        if !inst.iter().any(|i| i.life.hazard) && !causes.iter().any(|c| c.life.hazard) {
            return Err("every failure law is deterministic or empirical, so no failure can be made more likely (failure biasing needs a hazard rate); use --method plain".into());
        }
        let mut net = Net {
            enclosures: vec![Vec::new(); inst.len()],
            regenerative: false,
            inst,
            crews: model.crews.iter().map(|c| c.size).collect(),
            causes,
            standbys: Vec::new(),
            root: RNode::Gate(0, Vec::new()),
            flat: Vec::new(),
            leaves: Vec::new(),
        };
        net.root = net.flatten(&model.system, &mut Vec::new());
        net.leaves = vec![Vec::new(); net.inst.len()];
        let root = net.root.clone();
        net.push_flat(&root);
        net.regenerative = net.standbys.is_empty()
            && net
                .inst
                .iter()
                .map(|i| &i.life.dist)
                .chain(net.causes.iter().map(|c| &c.life.dist))
                .all(|d| d.exponential_rate().is_some());
        Ok(net)
    }

    /// `node` as an [`RNode`]; `within` lists the enclosing (standby, unit)
    /// pairs.
    fn flatten(&mut self, node: &Node, within: &mut Vec<(usize, usize)>) -> RNode {
        match node {
            Node::Instance(i) => {
                for &e in within.iter() {
                    if !self.enclosures[*i].contains(&e) {
                        self.enclosures[*i].push(e);
                    }
                }
                RNode::Inst(*i)
            }
            Node::Series(c) => RNode::Gate(c.len(), self.all(c, within)),
            Node::Parallel(c) => RNode::Gate(1, self.all(c, within)),
            Node::KOfN { k, of } => RNode::Gate(*k, self.all(of, within)),
            Node::Balancer(b) => {
                let via = self.flatten(&b.via, within);
                let pool = RNode::Gate(b.min_healthy, self.all(&b.pool, within));
                RNode::Gate(2, vec![via, pool])
            }
            Node::Standby(s) => {
                let index = self.standbys.len();
                self.standbys.push(Sb {
                    units: Vec::new(),
                    idle_speed: match s.mode {
                        Mode::Hot => 1.0,
                        Mode::Warm(f) => f,
                        Mode::Cold => 0.0,
                    },
                    detection: s.detection.clone(),
                    failover: s.failover.clone(),
                    switch_success: s.switch_success,
                    manual: s.manual_recovery.clone(),
                });
                let units = s
                    .units
                    .iter()
                    .enumerate()
                    .map(|(u, n)| {
                        within.push((index, u));
                        let r = self.flatten(n, within);
                        within.pop();
                        r
                    })
                    .collect();
                self.standbys[index].units = units;
                RNode::Standby(index)
            }
        }
    }

    /// Appends `node` and its descendants to `flat`, children first;
    /// returns its index.
    fn push_flat(&mut self, node: &RNode) -> usize {
        let (kind, children) = match node {
            RNode::Inst(i) => (FKind::Inst(*i), Vec::new()),
            RNode::Gate(k, of) => (
                FKind::Gate(*k),
                of.iter().map(|c| self.push_flat(c)).collect(),
            ),
            RNode::Standby(s) => {
                let units = self.standbys[*s].units.clone();
                (
                    FKind::Standby(*s),
                    units.iter().map(|c| self.push_flat(c)).collect(),
                )
            }
        };
        let id = self.flat.len();
        for &c in &children {
            self.flat[c].parent = id;
        }
        if let FKind::Inst(i) = kind {
            self.leaves[i].push(id);
        }
        self.flat.push(FNode {
            kind,
            children,
            parent: usize::MAX,
        });
        id
    }

    fn all(&mut self, nodes: &[Node], within: &mut Vec<(usize, usize)>) -> Vec<RNode> {
        nodes.iter().map(|n| self.flatten(n, within)).collect()
    }
}
