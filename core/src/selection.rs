//! What the user has selected in the interactions view: listed rows, or every interaction that
//! matches the filters except some. The header checkbox's tri-state is derived from it.

use crate::api::Selection;
use crate::ids::ConversationId;
use crate::view::Filters;

/// The selection of the interactions view.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub enum Selected {
    /// Rows ticked one by one or a page at a time, in the order ticked.
    #[default]
    Nothing,
    Ids(Vec<ConversationId>),
    /// Every interaction matching `filters`, except the ones unticked since.
    AllMatching {
        filters: Filters,
        except: Vec<ConversationId>,
    },
}

/// The header checkbox: none, some or all of the page's rows selected.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum HeaderState {
    None,
    Some,
    All,
}

impl HeaderState {
    /// The value of `aria-checked`.
    pub const fn aria_checked(self) -> &'static str {
        match self {
            HeaderState::None => "false",
            HeaderState::Some => "mixed",
            HeaderState::All => "true",
        }
    }
}

impl Selected {
    pub fn contains(&self, id: ConversationId) -> bool {
        match self {
            Selected::Nothing => false,
            Selected::Ids(ids) => ids.contains(&id),
            Selected::AllMatching { except, .. } => !except.contains(&id),
        }
    }

    pub fn is_empty(&self) -> bool {
        matches!(self, Selected::Nothing)
    }

    /// How many interactions are selected, given how many match the filters.
    pub fn count(&self, matching: u64) -> u64 {
        match self {
            Selected::Nothing => 0,
            Selected::Ids(ids) => ids.len() as u64,
            Selected::AllMatching { except, .. } => matching.saturating_sub(except.len() as u64),
        }
    }

    pub fn header_state(&self, page: &[ConversationId]) -> HeaderState {
        let n = page.iter().filter(|id| self.contains(**id)).count();
        match n {
            0 => HeaderState::None,
            n if n == page.len() => HeaderState::All,
            _ => HeaderState::Some,
        }
    }

    /// Ticks or unticks one row.
    pub fn toggle(&mut self, id: ConversationId) {
        let on = !self.contains(id);
        self.set(&[id], on);
    }

    /// The header checkbox: selects the whole page, or clears it when it is all selected.
    pub fn toggle_page(&mut self, page: &[ConversationId]) {
        let on = self.header_state(page) != HeaderState::All;
        self.set(page, on);
    }

    /// Selects every interaction matching `filters`.
    pub fn select_all_matching(&mut self, filters: &Filters) {
        *self = Selected::AllMatching {
            filters: filters.clone(),
            except: Vec::new(),
        };
    }

    fn set(&mut self, rows: &[ConversationId], on: bool) {
        match self {
            Selected::Nothing if on => *self = Selected::Ids(rows.to_vec()),
            Selected::Nothing => {}
            Selected::Ids(ids) => {
                match on {
                    true => ids.extend(
                        rows.iter()
                            .filter(|r| !ids.contains(r))
                            .copied()
                            .collect::<Vec<_>>(),
                    ),
                    false => ids.retain(|id| !rows.contains(id)),
                }
                if ids.is_empty() {
                    *self = Selected::Nothing;
                }
            }
            Selected::AllMatching { except, .. } => match on {
                true => except.retain(|id| !rows.contains(id)),
                false => except.extend(
                    rows.iter()
                        .filter(|r| !except.contains(r))
                        .copied()
                        .collect::<Vec<_>>(),
                ),
            },
        }
    }

    /// What to send to the server; `None` when nothing is selected.
    pub fn to_selection(&self) -> Option<Selection> {
        match self {
            Selected::Nothing => None,
            Selected::Ids(ids) => Some(Selection::Ids { ids: ids.clone() }),
            Selected::AllMatching { filters, except } => Some(Selection::Filter {
                query: filters.to_query(),
                except: except.clone(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn ids(n: u128) -> Vec<ConversationId> {
        (1..=n)
            .map(|i| ConversationId::from_uuid(Uuid::from_u128(i)))
            .collect()
    }

    #[test]
    fn header_checkbox_cycles_through_the_page() {
        let page = ids(3);
        let mut sel = Selected::Nothing;
        assert_eq!(sel.header_state(&page), HeaderState::None);
        sel.toggle(page[0]);
        assert_eq!(sel.header_state(&page), HeaderState::Some);
        assert_eq!(HeaderState::Some.aria_checked(), "mixed");
        sel.toggle_page(&page);
        assert_eq!(sel.header_state(&page), HeaderState::All);
        assert_eq!(sel, Selected::Ids(page.clone()));
        sel.toggle_page(&page);
        assert_eq!(sel, Selected::Nothing);
        assert_eq!(sel.to_selection(), None);
        assert_eq!(Selected::Nothing.header_state(&[]), HeaderState::None);
    }

    #[test]
    fn all_matching_with_exceptions() {
        let page = ids(3);
        let filters = Filters {
            protected: Some(false),
            ..Filters::default()
        };
        let mut sel = Selected::Nothing;
        sel.select_all_matching(&filters);
        assert_eq!(sel.count(3000), 3000);
        sel.toggle(page[1]);
        assert_eq!(sel.count(3000), 2999);
        assert_eq!(sel.header_state(&page), HeaderState::Some);
        assert_eq!(
            sel.to_selection(),
            Some(Selection::Filter {
                query: "protected=no".to_owned(),
                except: vec![page[1]]
            })
        );
        sel.toggle_page(&page);
        assert_eq!(sel.header_state(&page), HeaderState::All);
        assert_eq!(sel.count(3000), 3000);
        sel.toggle_page(&page);
        assert_eq!(sel.count(3000), 2997);
    }
}
