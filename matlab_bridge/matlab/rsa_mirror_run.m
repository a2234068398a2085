function result = rsa_mirror_run(command, varargin)
%RSA_MIRROR_RUN Run an rsa-mirror analysis from MATLAB or Octave and load its results.
%   RESULT = RSA_MIRROR_RUN(COMMAND, ARG1, ARG2, ...) runs the command line
%       rsa-mirror COMMAND ARG1 ARG2 ... --mat <temporary file>
%   checks its exit status (an error carries the program's output) and returns
%   RSA_MIRROR_LOAD(<temporary file>). No Python knowledge needed; Python and rsa_mirror must
%   be installed. The program is getenv('RSA_MIRROR') when set (e.g. a full path or
%   'python3 -m rsa_mirror.cli'), else 'rsa-mirror' on the PATH.
%
%   Examples:
%     r = rsa_mirror_run('align', '--simulate', '--weights', 'untrained', '--out', 'fig6');
%     r = rsa_mirror_run('demo', '--out', 'demo_output');
  if nargin < 1 || ~ischar(command)
    error('rsa_mirror:run', 'rsa_mirror_run: give the subcommand as text, e.g. rsa_mirror_run(''demo'', ''--out'', ''d'')');
  end
  program = getenv('RSA_MIRROR');
  if isempty(program)
    program = 'rsa-mirror';
  end
  mat = [tempname() '.mat'];
  words = [{command}, varargin, {'--mat', mat}];
  for k = 1:numel(words)
    if ~ischar(words{k})
      words{k} = num2str(words{k});
    end
    words{k} = ['''' strrep(words{k}, '''', '''"''"''') ''''];   % quoted for the shell
  end
  [status, output] = system([program ' ' strjoin(words, ' ')]);
  if status ~= 0
    error('rsa_mirror:run', 'rsa_mirror_run: "%s %s" failed with exit status %d:\n%s', program, command, status, output);
  end
  if ~exist(mat, 'file')
    error('rsa_mirror:run', 'rsa_mirror_run: %s %s wrote no results file; output:\n%s', program, command, output);
  end
  result = rsa_mirror_load(mat);
  delete(mat);
end
