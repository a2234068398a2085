function result = rsa_mirror_run(command, varargin)
%RSA_MIRROR_RUN Run any rsa-mirror command from MATLAB or Octave and load its results.
%   RESULT = RSA_MIRROR_RUN(COMMAND, ARG1, ARG2, ...) runs the command line
%       rsa-mirror COMMAND ARG1 ARG2 ...
%   For the commands that write results (demo, msvt, equivariance, align, train, importance)
%   '--mat <temporary file>' is added and RESULT is RSA_MIRROR_LOAD(<temporary file>), with
%   RESULT.output the program's printed text. For the others (export-mat, import-mat, render,
%   fetch-face-mesh) RESULT is a struct with the field 'output' alone.
%   A failing command raises the error 'rsa_mirror:run' whose message holds the program's own
%   message (its standard error is captured too). Python and rsa_mirror must be installed. The
%   program is getenv('RSA_MIRROR') when set (e.g. a full path or 'python3 -m rsa_mirror.cli'),
%   else 'rsa-mirror' on the PATH.
%
%   Examples:
%     r = rsa_mirror_run('align', '--simulate', '--weights', 'untrained', '--out', 'fig6');
%     r = rsa_mirror_run('demo', '--out', 'demo_output');
%     rsa_mirror_run('export-mat', '--neural', 'recordings', '--out', 'rdms.mat');
  if nargin < 1 || ~ischar(command)
    error('rsa_mirror:run', 'rsa_mirror_run: give the subcommand as text, e.g. rsa_mirror_run(''demo'', ''--out'', ''d'')');
  end
  program = getenv('RSA_MIRROR');
  if isempty(program)
    program = 'rsa-mirror';
  end
  writes_results = any(strcmp(command, {'demo', 'msvt', 'equivariance', 'align', 'train', 'importance'}));
  words = [{command}, varargin];
  mat = '';
  if writes_results
    mat = [tempname() '.mat'];
    words = [words, {'--mat', mat}];
  end
  for k = 1:numel(words)
    if ~ischar(words{k})
      words{k} = num2str(words{k});
    end
    words{k} = ['''' strrep(words{k}, '''', '''"''"''') ''''];   % quoted for the shell
  end
  [status, output] = system([program ' ' strjoin(words, ' ') ' 2>&1']);
  if status ~= 0
    lines = strsplit(strtrim(output), sprintf('\n'));
    error('rsa_mirror:run', 'rsa_mirror_run: "%s %s" failed (exit status %d): %s\nFull output:\n%s', ...
          program, command, status, lines{end}, output);
  end
  if ~writes_results
    result = struct('output', output);
    return
  end
  if ~exist(mat, 'file')
    error('rsa_mirror:run', 'rsa_mirror_run: %s %s wrote no results file; output:\n%s', program, command, output);
  end
  result = rsa_mirror_load(mat);
  result.output = output;
  delete(mat);
end
