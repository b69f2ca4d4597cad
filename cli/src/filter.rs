//! `--exclude` and `--include`, as the AWS CLI applies them: every file or object is taken
//! unless a filter says otherwise; the filters are tried in the order given, and the last one
//! whose pattern matches decides. Patterns match the path below the source (or, for `sync
//! --delete`, the destination) in `/` form, with Python's `fnmatch` rules: `*` is any run of
//! characters, `/` included; `?` is one character; `[abc]`, `[a-z]` and `[!abc]` are sets.

use clap::{Arg, ArgAction, ArgMatches, Args, Command, FromArgMatches};

/// One filter, as given on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rule {
    /// `--exclude PATTERN`: what matches is left out.
    Exclude(String),
    /// `--include PATTERN`: what matches is taken back in.
    Include(String),
}

/// The filters of a command, in the order given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filters(pub Vec<Rule>);

impl Filters {
    /// Whether `relative` (a path below the root, `/`-separated) is taken.
    pub fn takes(&self, relative: &str) -> bool {
        let mut taken = true;
        for rule in &self.0 {
            match rule {
                Rule::Exclude(pattern) if fnmatch(pattern, relative) => taken = false,
                Rule::Include(pattern) if fnmatch(pattern, relative) => taken = true,
                _ => {}
            }
        }
        taken
    }
}

/// `--exclude` and `--include`, shared by `cp`, `mv`, `rm` and `sync`. clap gives each
/// option's values apart; their positions on the command line put them back in order.
#[derive(Clone, Debug, Default)]
pub struct FilterArgs {
    pub filters: Filters,
}

const EXCLUDE: &str = "exclude";
const INCLUDE: &str = "include";

impl FromArgMatches for FilterArgs {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let mut placed: Vec<(usize, Rule)> = Vec::new();
        for (id, rule) in [
            (EXCLUDE, Rule::Exclude as fn(String) -> Rule),
            (INCLUDE, Rule::Include),
        ] {
            if let (Some(values), Some(indices)) =
                (matches.get_many::<String>(id), matches.indices_of(id))
            {
                placed.extend(indices.zip(values).map(|(at, p)| (at, rule(p.clone()))));
            }
        }
        placed.sort_by_key(|(at, _)| *at);
        Ok(FilterArgs {
            filters: Filters(placed.into_iter().map(|(_, rule)| rule).collect()),
        })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = FilterArgs::from_arg_matches(matches)?;
        Ok(())
    }
}

impl Args for FilterArgs {
    fn augment_args(command: Command) -> Command {
        command
            .arg(
                Arg::new(EXCLUDE)
                    .long(EXCLUDE)
                    .value_name("PATTERN")
                    .action(ArgAction::Append)
                    .help("Leave out what matches (a path below the source; * ? [..]); repeatable"),
            )
            .arg(
                Arg::new(INCLUDE)
                    .long(INCLUDE)
                    .value_name("PATTERN")
                    .action(ArgAction::Append)
                    .help("Take back what matches an earlier --exclude; the last match wins"),
            )
    }

    fn augment_args_for_update(command: Command) -> Command {
        FilterArgs::augment_args(command)
    }
}

/// Python's `fnmatch.fnmatchcase`: `*` any run (slashes too), `?` one character, `[...]` a
/// set (`[!...]` its complement); a `[` without its `]` is itself.
pub fn fnmatch(pattern: &str, name: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    let (mut p, mut n) = (0, 0);
    // Where the last `*` was, and the name position it has taken up to.
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        let step = match pattern.get(p) {
            Some('*') => {
                star = Some((p, n));
                p += 1;
                continue;
            }
            Some('?') => Some(p + 1),
            Some('[') => match set(&pattern, p) {
                Some((end, matches)) => matches(name[n]).then_some(end),
                None => (name[n] == '[').then_some(p + 1),
            },
            Some(&c) => (c == name[n]).then_some(p + 1),
            None => None,
        };
        match (step, star) {
            (Some(next), _) => {
                p = next;
                n += 1;
            }
            (None, Some((at, taken))) => {
                // The last `*` takes one character more.
                p = at + 1;
                n = taken + 1;
                star = Some((at, taken + 1));
            }
            (None, None) => return false,
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// The set starting at `pattern[at] == '['`: the position after its `]` and whether a
/// character is in it; `None` when the set is not closed.
fn set(pattern: &[char], at: usize) -> Option<(usize, impl Fn(char) -> bool)> {
    let mut i = at + 1;
    let negated = pattern.get(i) == Some(&'!');
    if negated {
        i += 1;
    }
    let start = i;
    // A `]` first in the set is one of its characters.
    if pattern.get(i) == Some(&']') {
        i += 1;
    }
    while pattern.get(i).is_some_and(|&c| c != ']') {
        i += 1;
    }
    if i >= pattern.len() {
        return None;
    }
    let items: Vec<char> = pattern[start..i].to_vec();
    let contains = move |c: char| {
        let mut j = 0;
        let mut found = false;
        while j < items.len() {
            if j + 2 < items.len() && items[j + 1] == '-' {
                found |= items[j] <= c && c <= items[j + 2];
                j += 3;
            } else {
                found |= items[j] == c;
                j += 1;
            }
        }
        found != negated
    };
    Some((i + 1, contains))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taken(rules: &[Rule]) -> Vec<&'static str> {
        let filters = Filters(rules.to_vec());
        ["bar.txt", "baz.jpg", "foo.txt", ".git/config"]
            .into_iter()
            .filter(|path| filters.takes(path))
            .collect()
    }

    fn ex(p: &str) -> Rule {
        Rule::Exclude(p.to_owned())
    }

    fn inc(p: &str) -> Rule {
        Rule::Include(p.to_owned())
    }

    #[test]
    fn the_aws_cli_examples() {
        // The three examples of the AWS CLI's documentation, as issue #17 lists them.
        assert_eq!(taken(&[ex("*"), inc("*.txt")]), ["bar.txt", "foo.txt"]);
        assert_eq!(taken(&[inc("*.txt"), ex("*")]), Vec::<&str>::new());
        assert_eq!(taken(&[ex(".git/*")]), ["bar.txt", "baz.jpg", "foo.txt"]);
        assert_eq!(taken(&[]), ["bar.txt", "baz.jpg", "foo.txt", ".git/config"]);
    }

    #[test]
    fn patterns_follow_fnmatch() {
        for (pattern, name, matches) in [
            ("*", "a/b/c.txt", true),
            ("*.txt", "dir/a.txt", true),
            ("dir/*", "dir/sub/a.txt", true),
            ("dir/*", "dir2/a.txt", false),
            ("?.csv", "a.csv", true),
            ("?.csv", "ab.csv", false),
            ("[ab].csv", "b.csv", true),
            ("[!ab].csv", "b.csv", false),
            ("[!ab].csv", "c.csv", true),
            ("[a-c]x", "bx", true),
            ("[a-c]x", "dx", false),
            ("[]]", "]", true),
            ("[x", "[x", true),
            ("월별/*", "월별/매출 1.csv", true),
            ("*a*b", "xaxxb", true),
            ("*a*b", "xaxxbc", false),
            ("a**", "a", true),
            ("", "", true),
            ("", "a", false),
            ("*.TXT", "a.txt", false),
        ] {
            assert_eq!(fnmatch(pattern, name), matches, "{pattern:?} on {name:?}");
        }
    }

    #[test]
    fn the_order_on_the_command_line_is_kept() {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            filters: FilterArgs,
        }
        use clap::Parser;
        let cli = Cli::try_parse_from([
            "x",
            "--include",
            "a",
            "--exclude=b",
            "--include",
            "c",
            "--exclude",
            "d",
        ])
        .unwrap();
        assert_eq!(
            cli.filters.filters.0,
            [inc("a"), ex("b"), inc("c"), ex("d")]
        );
    }
}
