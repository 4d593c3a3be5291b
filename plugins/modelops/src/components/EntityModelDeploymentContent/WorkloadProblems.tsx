import { Link } from '@backstage/core-components';
import {
  RolloutCondition,
  WorkloadProblem,
} from '@modelops/plugin-modelops-common';
import Accordion from '@material-ui/core/Accordion';
import AccordionDetails from '@material-ui/core/AccordionDetails';
import AccordionSummary from '@material-ui/core/AccordionSummary';
import Box from '@material-ui/core/Box';
import Typography from '@material-ui/core/Typography';
import ErrorOutline from '@material-ui/icons/ErrorOutline';
import ExpandMoreIcon from '@material-ui/icons/ExpandMore';

/** Problems found on pods and workloads, each with the proposed fix. */
export function WorkloadProblems(props: { problems: WorkloadProblem[] }) {
  if (props.problems.length === 0) return null;
  return (
    <Box component="section" aria-label="Problems" mt={1}>
      <Typography variant="subtitle2">
        Problems ({props.problems.length})
      </Typography>
      {props.problems.map((problem, index) => (
        <Box key={`${problem.kind}/${problem.name}/${index}`} mt={1}>
          <Box display="flex" alignItems="flex-start">
            <ErrorOutline
              color="error"
              fontSize="small"
              style={{ marginRight: 4 }}
            />
            <Typography variant="body2">
              <strong>
                {problem.kind} {problem.name}:
              </strong>{' '}
              {problem.message}
            </Typography>
          </Box>
          {problem.fix && (
            <Box ml={3}>
              <Typography variant="body2" color="textSecondary">
                Suggested fix: {problem.fix.explanation}
              </Typography>
              {problem.fix.actions.length > 0 && (
                <ul style={{ margin: '4px 0', paddingLeft: 20 }}>
                  {problem.fix.actions.map(action => (
                    <li key={action}>
                      <Typography variant="body2">{action}</Typography>
                    </li>
                  ))}
                </ul>
              )}
              {problem.fix.docsLink && (
                <Link to={problem.fix.docsLink}>
                  Read more about this problem
                </Link>
              )}
            </Box>
          )}
        </Box>
      ))}
    </Box>
  );
}

/** The conditions of a Deployment or InferenceService, collapsed by default. */
export function RolloutConditions(props: { conditions: RolloutCondition[] }) {
  if (props.conditions.length === 0) return null;
  return (
    <Accordion
      variant="outlined"
      TransitionProps={{ unmountOnExit: true }}
      style={{ marginTop: 8 }}
    >
      <AccordionSummary expandIcon={<ExpandMoreIcon />}>
        <Typography variant="body2">
          Conditions ({props.conditions.length})
        </Typography>
      </AccordionSummary>
      <AccordionDetails>
        <ul style={{ margin: 0, paddingLeft: 20 }}>
          {props.conditions.map(c => (
            <li key={c.type}>
              <Typography variant="body2">
                <strong>{c.type}</strong> = {c.status}
                {c.reason ? ` (${c.reason})` : ''}
                {c.message ? `: ${c.message}` : ''}
              </Typography>
            </li>
          ))}
        </ul>
      </AccordionDetails>
    </Accordion>
  );
}
