import { ObjectDiff } from '@modelops/plugin-modelops-common';
import Box from '@material-ui/core/Box';
import Chip from '@material-ui/core/Chip';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import { memo } from 'react';

/** A value of a field, JSON-stringified compactly; "(unset)" when absent. */
export function formatFieldValue(value: unknown): string {
  if (value === undefined) return '(unset)';
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text;
}

const operationColor = {
  create: 'primary',
  update: 'secondary',
  unchanged: 'default',
  delete: 'default',
} as const;

const useStyles = makeStyles(
  theme => ({
    deleteChip: {
      backgroundColor: theme.palette.error.main,
      color: theme.palette.error.contrastText,
    },
  }),
  { name: 'ModelOpsDiffView' },
);

/** In the order the summary lists them. */
const OPERATIONS = ['create', 'update', 'delete', 'unchanged'] as const;

/**
 * Per-object result of a (dry-run) apply: operation and changed fields.
 * Memoised: the dialog around it is drawn again on every status poll.
 */
export const DiffView = memo(function DiffViewContent(props: {
  diff: ObjectDiff[];
  title: string;
}) {
  const { diff } = props;
  const classes = useStyles();
  const counts = OPERATIONS.map(
    op => [op, diff.filter(d => d.operation === op).length] as const,
  )
    .filter(([, n]) => n > 0)
    .map(([op, n]) => `${n} ${op === 'unchanged' ? 'unchanged' : `to ${op}`}`);
  return (
    <Box component="section" aria-label={props.title} mt={2}>
      <Typography variant="subtitle1">{props.title}</Typography>
      <Typography variant="body2" color="textSecondary">
        {diff.length === 0
          ? 'No objects to apply.'
          : `${diff.length} object${
              diff.length === 1 ? '' : 's'
            }: ${counts.join(', ')}`}
      </Typography>
      {diff.map(object => (
        <Box
          key={`${object.apiVersion}/${object.kind}/${object.name}`}
          component="section"
          aria-label={`${object.kind} ${object.name}`}
          mt={2}
        >
          <Box display="flex" alignItems="center" style={{ gap: 8 }}>
            <Typography variant="body2">
              <strong>
                {object.kind} {object.name}
              </strong>
            </Typography>
            <Chip
              size="small"
              label={object.operation}
              color={operationColor[object.operation]}
              variant={
                object.operation === 'unchanged' ? 'outlined' : 'default'
              }
              className={
                object.operation === 'delete' ? classes.deleteChip : undefined
              }
            />
          </Box>
          {object.changes.length > 0 ? (
            <Table
              size="small"
              aria-label={`Changes to ${object.kind} ${object.name}`}
            >
              <TableHead>
                <TableRow>
                  <TableCell>Path</TableCell>
                  <TableCell>Before → after</TableCell>
                </TableRow>
              </TableHead>
              <TableBody>
                {object.changes.map(change => (
                  <TableRow key={change.path}>
                    <TableCell>
                      <code>{change.path}</code>
                    </TableCell>
                    <TableCell style={{ overflowWrap: 'anywhere' }}>
                      <code>{formatFieldValue(change.before)}</code> →{' '}
                      <code>{formatFieldValue(change.after)}</code>
                    </TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          ) : (
            object.operation !== 'create' && (
              <Typography
                variant="body2"
                color={
                  object.operation === 'delete' ? 'error' : 'textSecondary'
                }
              >
                {object.operation === 'delete'
                  ? 'No longer in the manifests: applying deletes it from the cluster.'
                  : 'No changes.'}
              </Typography>
            )
          )}
        </Box>
      ))}
    </Box>
  );
});
