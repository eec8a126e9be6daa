//! The server-held architectures: client-server (one city holds every section) and
//! primary/secondary (the primary holds them and applies every write; secondaries
//! keep copies from its messages and answer reads, possibly stale).

use super::Architecture;
use super::model::{Answer, Event, Msg, Registrar};
use crate::sim::{Nanos, Queue};

impl Registrar<'_> {
    pub(super) fn central(&mut self, at: usize, msg: Msg, now: Nanos, queue: &mut Queue<Event>) {
        match msg {
            Msg::Request {
                student,
                op,
                enroll: true,
                section,
            } => {
                assert_eq!(at, self.config.server, "writes go to the primary only");
                let s = section as usize;
                let answer = if self.primary[s] < self.capacities[s] {
                    self.primary[s] += 1;
                    self.granted[s] += 1;
                    Answer::Enrolled
                } else {
                    Answer::Full
                };
                assert!(self.primary[s] <= self.capacities[s], "the server never overbooks");
                self.answer(at, student, op, answer, now, queue);
                if matches!(answer, Answer::Enrolled) && self.arch == Architecture::PrimarySecondary {
                    let (enrolled, config) = (self.primary[s], self.config);
                    for &r in &config.secondaries {
                        self.send(at, r, Msg::Replicate { section, enrolled }, now, queue);
                    }
                }
            }
            Msg::Request {
                student,
                op,
                enroll: false,
                section,
            } => {
                let s = section as usize;
                let copy = if at == self.config.server {
                    self.primary[s]
                } else {
                    self.replica(at)[s]
                };
                let answer = Answer::Seats {
                    left: self.capacities[s].saturating_sub(copy),
                    stale: copy != self.primary[s],
                };
                self.answer(at, student, op, answer, now, queue);
            }
            Msg::Replicate { section, enrolled } => {
                // Copies may arrive out of order; a count only grows, so keep the largest.
                let copy = &mut self.replica(at)[section as usize];
                *copy = (*copy).max(enrolled);
            }
            Msg::Notice { .. } | Msg::QuotaAsk { .. } | Msg::QuotaGive { .. } => {
                unreachable!("peer messages in a server architecture")
            }
        }
    }

    fn replica(&mut self, city: usize) -> &mut Vec<u32> {
        let i = self
            .config
            .secondaries
            .iter()
            .position(|&c| c == city)
            .expect("reads go to the primary or a secondary");
        &mut self.replicas[i]
    }
}
